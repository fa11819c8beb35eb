"""``/api/v1/budgets``: budgets per initiative, business unit, provider, tag or API key, and
their spend in a period; ``/api/v1/alerts``: the alerts spend control raised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from valuegap.costs.alerts import Alert, AlertKind
from valuegap.costs.budget_periods import Budget, BudgetStatus
from valuegap.ledger import Ledger
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["budgets"], responses=PROBLEMS)

Reader = Annotated[Ledger, acting("read")]
Writer = Annotated[Ledger, acting("cost.write")]
BudgetId = Annotated[str, Path(min_length=1, max_length=64)]


class NewBudget(BaseModel):
    """A budget: ``amount`` in ``currency`` per month, or for the months ``start`` to ``end``
    (``period``), for the cost of a scope."""

    scope: Literal["initiative", "business_unit", "provider", "tag", "api_key"]
    value: str = Field(min_length=1, description="Which one; for a tag, key=value.")
    amount: Decimal
    currency: str | None = Field(None, description="Default: the reporting currency.")
    period: Literal["monthly", "period"] = "monthly"
    start: date | None = Field(None, description="The first month (its first day).")
    end: date | None = Field(None, description="The last month (its first day).")
    thresholds: list[Decimal] | None = Field(
        None, description="Shares of the amount that alert; default 0.8 and 1."
    )
    hard_limit: bool = Field(
        False, description="Deny the agent's actions once spent (an agent's or API key's)."
    )


@router.get("/budgets", response_model=list[Budget])
def budgets(ledger: Reader) -> JSONResponse:
    """Every budget: those set, and those that follow a business case (``source``)."""
    return answer(ledger.costs.budgets.budgets())


@router.put("/budgets/{budget_id}", response_model=Budget)
def set_budget(budget_id: BudgetId, budget: NewBudget, ledger: Writer) -> JSONResponse:
    """Set a budget (replacing one with this id); the thresholds its spend so far reached
    alert at once."""
    found = ledger.costs.budgets.set_budget(
        budget_id,
        budget.scope,
        budget.value,
        budget.amount,
        budget.currency,
        period=budget.period,
        start=budget.start,
        end=budget.end,
        thresholds=budget.thresholds,
        hard_limit=budget.hard_limit,
    )
    return answer(found)


@router.delete("/budgets/{budget_id}", status_code=204)
def remove_budget(budget_id: BudgetId, ledger: Writer) -> None:
    """Remove a budget (its alerts stay)."""
    ledger.costs.budgets.remove_budget(budget_id)


@router.get("/budgets/status", response_model=list[BudgetStatus])
def budget_status(
    ledger: Reader,
    on: Annotated[
        date | None, Query(description="A day of the period, as of its end; default: today.")
    ] = None,
    budget: Annotated[str | None, Query(description="Only this budget.")] = None,
) -> JSONResponse:
    """Each budget in its period that holds the day: amount, spend, share, thresholds passed,
    in the reporting currency."""
    return answer(ledger.costs.budgets.budget_status(budget, on))


@router.get("/alerts", response_model=list[Alert])
def alerts(
    ledger: Reader,
    kind: Annotated[AlertKind | None, Query()] = None,
    subject: Annotated[str | None, Query(description="e.g. budget:<id>.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> JSONResponse:
    """The alerts raised, newest first, each with its deliveries to the webhooks."""
    return answer(ledger.costs.alerts.alerts(kind, subject, limit))


@router.post("/alerts/check", response_model=list[Alert])
def check_alerts(
    ledger: Writer,
    on: Annotated[date | None, Query(description="The day to check as of; default: today.")] = None,
) -> JSONResponse:
    """Raise the alerts of this month's forecast overruns and the last week's spend anomalies
    not raised before (the server checks every hour); the new ones."""
    return answer(ledger.costs.alerts.check(on))


@router.post("/alerts/deliver", response_model=list[Alert])
def deliver_alerts(ledger: Writer) -> JSONResponse:
    """Send the deliveries still pending; the alerts that had one."""
    return answer(ledger.costs.alerts.deliver())

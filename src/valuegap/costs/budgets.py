"""Budgets (``ledger.costs.budgets``): what may be spent per initiative, business unit,
provider, tag or API key, per month or for a period, in any currency (``budget_periods.py``).

An initiative with a business case and no budget of its own has one that follows the case's
planned investment (monthly, in the case's currency, id ``case:<initiative>``): listed with
the source ``business case``, alerting as any other, never a hard limit.

Every write that changes cost computes the spend of the periods it touched, in its
transaction (``refresh``, from the monthly aggregates), keeps it (``budget_spend``) and raises
the alerts of the thresholds reached (``costs.alerts``) in the periods still open or ended
last month (whose bills arrive now); older periods' spend is kept and shown, not alerted. An
agent's authorisation reads only the kept spend (``spent_limit``): no cost is summed per decision.

A budget's status shows its scope's spend forecast by its period's end (``ledger.costs.spend``,
from daily spend: read when asked, never on a write); a budget forecast above its amount is
alerted by ``alerts.check`` (``forecast_alerts``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from valuegap.costs.alerts import Alerts, RaisedAlert
from valuegap.costs.budget_periods import (
    CASE,
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetStatus,
    Period,
    threshold_alerts,
)
from valuegap.costs.scope import cost_scope
from valuegap.costs.spend_alerts import forecast_alert
from valuegap.costs.spend_results import ForecastLine
from valuegap.errors import NotFound, ValidationError
from valuegap.results import Money
from valuegap.session import Part, Session
from valuegap.store.budgets import BudgetStore
from valuegap.store.database import Database
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.writer import writes

# (report key, months) -> (month, value) -> allocated cost
MonthlyCost = Callable[[str, Sequence[date]], dict[tuple[date, str | None], Decimal]]
Rate = Callable[[str, date], Decimal]  # currency, month -> its rate into the reporting currency
# (dimension, first month, months, as of) -> value of the dimension -> its spend forecast
ForecastOf = Callable[[str, date, int, date], dict[str | None, ForecastLine]]
FORECAST_SCOPES = ("initiative", "business_unit", "provider")  # what daily spend is summed by


class Budgets(Part):
    """Budgets, their spend, and the hard limits agents' authorisation enforces."""

    def __init__(
        self,
        session: Session,
        monthly_cost: MonthlyCost,
        rate: Rate,
        alerts: Alerts,
        forecast: ForecastOf,
    ) -> None:
        super().__init__(session)
        self._forecast = forecast
        self._store = BudgetStore(session.db)
        self._portfolio = PortfolioStore(session.db)
        self._monthly_cost = monthly_cost
        self._rate = rate
        self._alerts = alerts

    @writes
    def set_budget(
        self,
        budget_id: str,
        scope: str,
        value: str,
        amount: Decimal,
        currency: str | None = None,
        *,
        period: str = "monthly",
        start: date | None = None,
        end: date | None = None,
        thresholds: Sequence[Decimal] | None = None,
        hard_limit: bool = False,
    ) -> Budget:
        """Set a budget (replacing one with its id); its spend so far is computed at once, and
        the thresholds it has reached alert. ``start``/``end``: months (their first day)."""
        self._require("cost.write")
        currency = currency or self.settings.reporting_currency
        given = DEFAULT_THRESHOLDS if thresholds is None else tuple(thresholds)
        budget = Budget(
            budget_id,
            scope,
            value,
            period,
            start,
            end,
            amount,
            currency,
            sorted(set(given)),
            hard_limit,
        )
        self._check(budget)
        before = self._store.get(budget_id)
        with self._db.transaction():
            self._store.save(budget.stored(), self._now(), self.actor)
            self._record(
                "budget.set",
                "budget",
                budget_id,
                before and {"amount": before["amount"], "currency": before["currency"]},
                {"scope": scope, "value": value, "amount": amount, "currency": currency},
                changed=[("budgets", {"id": budget_id})],
            )
            self._refresh([budget], None)
        return budget

    @writes
    def remove_budget(self, budget_id: str) -> None:
        """Remove a budget (its alerts stay in the ledger)."""
        self._require("cost.write")
        if self._store.get(budget_id) is None:
            raise NotFound(f"There is no budget {budget_id!r}; `budget list` shows them.")
        with self._db.transaction():
            self._store.remove(budget_id)
            self._record(
                "budget.remove",
                "budget",
                budget_id,
                {"id": budget_id},
                None,
                changed=[("budgets", {"id": budget_id})],
            )

    def budgets(self) -> list[Budget]:
        """Every budget, those set and those that follow a business case, by id; a
        contributor's, those of their business units and their initiatives."""
        self._require("read")
        return self._visible()

    def budget_status(
        self, budget_id: str | None = None, on: date | None = None
    ) -> list[BudgetStatus]:
        """Each budget (or ``budget_id``) in its period that holds the day ``on`` (default:
        today), as of the end of that day: what it allows, what was spent by then and what its
        scope's spend is forecast at by the period's end (from the days up to ``on``, that day
        included: on a period's last day the forecast is what was spent), in the reporting
        currency."""
        from valuegap.months import check_days  # the days spend is read for

        self._require("read")
        check_days("No budget status can be given.", on=on)
        budgets = self._visible()
        if budget_id is not None:
            budgets = [b for b in budgets if b.id == budget_id]
            if not budgets:
                raise NotFound(f"There is no budget {budget_id!r}; `budget list` shows them.")
        day = on or self._now().date()
        return self._statuses(budgets, day, day + timedelta(days=1), strict=True)

    def forecast_alerts(self, day: date) -> list[RaisedAlert]:
        """The alerts of the budgets set (not those following a business case: the case's
        forecast overrun says whether the plan expected it) whose scope's spend is forecast
        above their amount by the end of the period that holds ``day``; no permission asked
        (``alerts.check`` raises them)."""
        currency = self.settings.reporting_currency
        return [
            alert
            for status in self._statuses([b for b in self._all() if b.source == "set"], day, day)
            if (alert := forecast_alert(status, currency)) is not None
        ]

    def _statuses(
        self, budgets: Sequence[Budget], day: date, as_of: date, strict: bool = False
    ) -> list[BudgetStatus]:
        """The budgets in their periods that hold ``day``, with the spend of the days before
        ``as_of`` and the forecast from them. Where the scope's spend is forecast, what was
        spent is the forecast's (its days before ``as_of`` and the period's manual costs), not
        every cost recorded for the period: a status of a past day does not count the days
        after it as spent while forecasting them too, so the forecast is never below it. A
        period over by ``as_of`` is forecast at its spend, as the monthly aggregates hold it."""
        from valuegap.costs.spend_api import MAX_MONTHS  # not imported by every cost write

        pairs = [(b, p) for b in budgets if (p := b.period_of(day)) is not None]
        asked = {
            (b.scope, p.start, len(p.months))
            for b, p in pairs
            if b.scope in FORECAST_SCOPES and len(p.months) <= MAX_MONTHS
        }
        # One forecast per scope and period, not per budget: each reads months of daily spend.
        forecasts = {ask: self._forecast(*ask, as_of) for ask in sorted(asked)}
        currency = self.settings.reporting_currency
        found = []
        for (budget, _), (period, amount, spent) in zip(
            pairs, self._spent(pairs, strict), strict=True
        ):
            if amount is None:
                continue  # its currency has no rate yet
            lines = forecasts.get((budget.scope, period.start, len(period.months)), {})
            forecast = lines.get(budget.value)
            if forecast is not None and as_of >= period.end:  # over: the forecast is the spend
                forecast = dataclasses.replace(forecast, forecast=spent, low=spent, high=spent)
            elif forecast is not None:
                spent = forecast.spent + forecast.manual
            found.append(BudgetStatus.of(budget, period, amount, spent, currency, forecast))
        return found

    def spent_limit(self, scope: str, value: str, day: date) -> str | None:
        """The id of a hard-limited budget of this scope (``api_key``, a gateway's key, or
        ``initiative``, an agent) whose period holds ``day`` and is spent; None if none is."""
        self._require("read")
        return spent_limit(self._db, scope, value, day)

    def refresh(self, months: Sequence[date] | None) -> None:
        """Compute the spend of every budget's periods that hold one of ``months`` (None:
        all), keep it and raise the alerts of the thresholds reached; in the caller's
        transaction, with no permission asked (a write that changed cost calls it)."""
        self._refresh(self._all(), months)

    @writes
    def alert_thresholds(self, months: Sequence[date]) -> None:
        """Compute the spend of the budgets' periods that hold one of ``months`` again and
        raise the alerts of the thresholds reached in those open now or ended last month, as
        a cost write does: for a ledger loaded ahead of its clock (the demo, whose months
        alert as its calendar passes them)."""
        self._require("cost.write")
        with self._db.transaction():
            self._refresh(self._all(), months)

    def _refresh(self, budgets: Sequence[Budget], months: Sequence[date] | None) -> None:
        from valuegap.store.aggregates import AggregateStore

        if months is None:
            months = AggregateStore(self._db).months() or [self._now().date().replace(day=1)]
        pairs = [(b, p) for b in budgets for p in b.periods(months)]
        this_month = self._now().date().replace(day=1)
        kept, raised = [], []
        for (budget, period), (_, amount, spent) in zip(pairs, self._spent(pairs), strict=True):
            if amount is None:
                continue  # its currency has no rate yet: kept once one is loaded
            kept.append(
                {
                    "budget": budget.id,
                    "period": period.label,
                    "start_month": period.start,
                    "end_month": period.end,
                    "amount": amount,
                    "spent": spent,
                }
            )
            currency = self.settings.reporting_currency
            # Open periods and last month's (whose bills arrive now); never one to come, whose
            # cost was written ahead: it alerts at a cost write once it has begun.
            if period.start <= this_month <= period.end:
                raised += threshold_alerts(budget, period, spent, amount, currency)
        self._store.keep_spend(kept)
        self._store.forget_spend_except([b.id for b in self._all()])
        self._alerts.raise_alerts(raised)

    def _spent(
        self, pairs: Sequence[tuple[Budget, Period]], strict: bool = False
    ) -> list[tuple[Period, Money | None, Money]]:
        """Each budget's period, its amount and spend in the reporting currency; the amount
        None where its currency has no rate for the period (``strict``: raise then)."""
        needed: dict[str, set[date]] = defaultdict(set)
        for budget, period in pairs:
            needed[budget.report_key].update(period.months)
        costs = {key: self._monthly_cost(key, sorted(months)) for key, months in needed.items()}
        found: list[tuple[Period, Money | None, Money]] = []
        for budget, period in pairs:
            by_month = costs[budget.report_key]
            spent = sum(
                (by_month.get((m, budget.report_value), Decimal(0)) for m in period.months),
                Decimal(0),
            )
            try:
                amount = budget.amount * self._rate(budget.currency, period.start)
            except ValidationError:
                if strict:
                    raise
                found.append((period, None, spent))
            else:
                found.append((period, amount, spent))
        return found

    def _visible(self) -> list[Budget]:
        """The budgets the actor may see (costs/scope.py)."""
        scope = cost_scope(self._session)
        if scope is None:
            return self._all()
        return [b for b in self._all() if scope.sees_budget(b.scope, b.value)]

    def _all(self) -> list[Budget]:
        set_ = [_budget(row) for row in self._store.all()]
        own = {b.value for b in set_ if b.scope == "initiative"}
        derived = [
            Budget(
                f"{CASE}{i.id}",
                "initiative",
                i.id,
                "monthly",
                None,
                None,
                i.business_case.monthly_investment,
                i.business_case.currency,
                list(DEFAULT_THRESHOLDS),
                source="business case",
            )
            for i in self._portfolio.initiatives()
            if i.business_case is not None and i.id not in own
        ]
        return sorted([*set_, *derived], key=lambda b: b.id)

    def _check(self, budget: Budget) -> None:
        initiative = (
            self._portfolio.initiative(budget.value) if budget.scope == "initiative" else None
        )
        problems = budget.problems(None if initiative is None else initiative.kind)
        if problems:
            raise ValidationError(f"Budget {budget.id} was not set.", problems)
        if budget.currency != self.settings.reporting_currency:
            self._rate(budget.currency, (budget.start or self._now().date()).replace(day=1))


def _budget(row: dict[str, Any]) -> Budget:
    return Budget(**{**row, "thresholds": [Decimal(t) for t in row["thresholds"]]})


def spent_limit(db: Database, scope: str, value: str, day: date) -> str | None:
    """``Budgets.spent_limit`` with no permission asked (an agent's authorisation): it reads
    only the spend kept at the last cost write, cached until a commit writes the budgets or
    their spend, so that no cost is summed per decision."""
    month = day.replace(day=1)
    spent = db.cached(
        ("spent_limits", month),
        lambda: BudgetStore(db).spent_limits(month),
        frozenset({"budgets", "budget_spend"}),
    )
    found = (row["id"] for row in spent if (row["scope"], row["scope_value"]) == (scope, value))
    return next(found, None)

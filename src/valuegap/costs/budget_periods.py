"""A budget, its periods, and the thresholds its spend has reached: what ``costs.budgets``
computes, without the ledger.

A monthly budget's periods are calendar months (from its start month, until its end month, if
given); a budget for a period has one, its months from start to end. Spend is the allocated
cost in the budget's scope in those months, in the reporting currency; the budget's amount is
converted at the rate of the period's first month, as a cost of that month would be. A
threshold (a share of the amount, 0.8 for 80 %) is passed when the spend reaches it, and it
alerts once per period: the alert is identified by the budget, the period and the threshold.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.costs.alerts import RaisedAlert
from valuegap.costs.spend_results import ForecastLine
from valuegap.decimals import plain
from valuegap.errors import Problem
from valuegap.months import month_starts, next_month
from valuegap.records import record
from valuegap.results import Money, Ratio

SCOPES = ("initiative", "business_unit", "provider", "tag", "api_key")
PERIODS = ("monthly", "period")
DEFAULT_THRESHOLDS = (Decimal("0.8"), Decimal("1"))
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CASE = "case:"  # the id of an initiative's budget that follows its business case: case:<id>


@record
class Budget:
    """A budget: ``amount`` in ``currency`` per month (``monthly``) or for the months from
    ``start`` to ``end`` (``period``), for the cost of a scope: an initiative, a business unit,
    a provider, a tag (``value`` is ``key=value``) or an API key. ``thresholds`` are the
    shares of the amount that alert; a ``hard_limit`` budget (an agent's, an API key's) denies
    the agent's actions once it is spent. ``source``: ``set``, or ``business case`` for an
    initiative's budget that follows its business case's planned investment."""

    id: str
    scope: str
    value: str
    period: str
    start: date | None
    end: date | None
    amount: Money
    currency: str
    thresholds: list[Decimal]
    hard_limit: bool = False
    source: str = "set"

    @property
    def report_key(self) -> str:
        """The cost report's dimension that holds this budget's scope."""
        return f"tag:{self.value.split('=', 1)[0]}" if self.scope == "tag" else self.scope

    @property
    def report_value(self) -> str:
        """The value of ``report_key`` that this budget's scope is."""
        return self.value.split("=", 1)[1] if self.scope == "tag" else self.value

    def periods(self, months: Iterable[date] | None) -> list[Period]:
        """The periods that hold any of ``months`` (all the budget's periods with one of
        ``months``, or the fixed period; None: every month is touched)."""
        if self.period == "period":
            assert self.start is not None and self.end is not None
            whole = Period(
                f"{self.start:%Y-%m}..{self.end:%Y-%m}", self.start, next_month(self.end)
            )
            if months is None or any(whole.start <= m < whole.end for m in months):
                return [whole]
            return []
        found = sorted(set(months or ()))
        return [
            Period(f"{m:%Y-%m}", m, next_month(m))
            for m in found
            if (self.start is None or m >= self.start) and (self.end is None or m <= self.end)
        ]

    def stored(self) -> dict[str, Any]:
        """As ``BudgetStore.save`` keeps it."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "source"}

    def problems(self, initiative_kind: str | None) -> list[Problem]:
        """What is wrong with it (``initiative_kind``: its initiative's kind, None if it has
        none)."""
        found = []
        if not _ID.match(self.id):
            said = "must be lower-case letters, digits, '-' and '_' (up to 64)"
            found.append(Problem("budget_id", said, self.id))
        if self.scope not in SCOPES:
            found.append(Problem("scope", f"must be one of {', '.join(SCOPES)}", self.scope))
        if not self.value.strip() or (self.scope == "tag" and "=" not in self.value):
            said = "must be key=value for a tag" if self.scope == "tag" else "must be given"
            found.append(Problem("value", said, self.value))
        elif self.scope == "initiative" and initiative_kind is None:
            found.append(Problem("value", "is not an initiative of this ledger", self.value))
        if not self.amount.is_finite() or self.amount <= 0:
            found.append(Problem("amount", "must be a number above zero", str(self.amount)))
        if not _CURRENCY.match(self.currency):
            found.append(Problem("currency", "must be an ISO 4217 code such as EUR", self.currency))
        if self.period not in PERIODS:
            found.append(Problem("period", f"must be one of {', '.join(PERIODS)}", self.period))
        if self.period == "period" and (self.start is None or self.end is None):
            found.append(Problem("start", "a budget for a period needs its start and end months"))
        if self.start and self.end and self.end < self.start:
            said = f"must not be before the start, {self.start:%Y-%m}"
            found.append(Problem("end", said, f"{self.end:%Y-%m}"))
        for t in self.thresholds:
            if not t.is_finite() or not 0 < t <= 10:
                said = "each must be a share above 0, e.g. 0.8 for 80 %"
                found.append(Problem("thresholds", said, str(t)))
        if self.hard_limit and not (initiative_kind == "agent" or self.scope == "api_key"):
            said = "only an agent's budget (an initiative of kind agent) or an API key's has one"
            found.append(Problem("hard_limit", said, f"{self.scope} {self.value}"))
        return found

    def period_of(self, day: date) -> Period | None:
        """The period that holds ``day``, if any."""
        month = day.replace(day=1)
        found = self.periods([month])
        return found[0] if found else None


@record
class Period:
    label: str  # 2026-03, or 2026-01..2026-06
    start: date  # its first month
    end: date  # the month after it

    @property
    def months(self) -> list[date]:
        return month_starts(self.start, self.end)


@record
class BudgetStatus:
    """A budget in one period: ``amount`` and ``spent`` in the reporting ``currency``, the
    ``share`` spent and the thresholds ``passed``; ``exhausted`` when a hard limit is spent.
    ``forecast``: its scope's spend forecast by the period's end (``ledger.costs.spend``), with
    its 90 % interval ``forecast_low`` to ``forecast_high``; None for a tag's or an API key's
    budget (daily spend is not summed by them), a period of more than 120 months, or a scope
    with no spend in the period nor the four weeks before."""

    budget: str
    scope: str
    value: str
    period: str
    currency: str
    amount: Money
    spent: Money
    remaining: Money
    share: Ratio | None
    passed: list[Decimal]
    hard_limit: bool
    exhausted: bool
    source: str
    forecast: Money | None = None
    forecast_low: Money | None = None
    forecast_high: Money | None = None

    @classmethod
    def of(
        cls,
        budget: Budget,
        period: Period,
        amount: Decimal,
        spent: Decimal,
        currency: str,
        forecast: ForecastLine | None = None,
    ) -> BudgetStatus:
        return cls(
            budget=budget.id,
            scope=budget.scope,
            value=budget.value,
            period=period.label,
            currency=currency,
            amount=amount,
            spent=spent,
            remaining=amount - spent,
            share=float(spent / amount) if amount else None,
            passed=passed(budget.thresholds, spent, amount),
            hard_limit=budget.hard_limit,
            exhausted=budget.hard_limit and spent >= amount,
            source=budget.source,
            forecast=None if forecast is None else forecast.forecast,
            forecast_low=None if forecast is None else forecast.low,
            forecast_high=None if forecast is None else forecast.high,
        )


def passed(thresholds: Sequence[Decimal], spent: Decimal, amount: Decimal) -> list[Decimal]:
    """The thresholds that ``spent`` has reached, as shares of ``amount``."""
    return [t for t in sorted(thresholds) if spent >= t * amount]


def threshold_alerts(
    budget: Budget, period: Period, spent: Decimal, amount: Decimal, currency: str
) -> list[RaisedAlert]:
    """The alerts of the thresholds ``spent`` has reached in ``period`` (``amount``: the budget
    in ``currency``, the reporting currency); the alerts module keeps each once."""
    return [
        RaisedAlert(
            kind="budget_threshold",
            subject=f"budget:{budget.id}",
            period=period.label,
            level=percent(t),
            message=(
                f"budget {budget.id} ({budget.scope} {budget.value}) in {period.label}: "
                f"{percent(t)} of {amount:,.2f} {currency} reached, {spent:,.2f} {currency} "
                "spent when raised"
            ),
            value=spent,
            reference=amount,
            threshold=t,
            currency=currency,
            details={
                "scope": budget.scope,
                "scope_value": budget.value,
                "budget": f"{plain(budget.amount)} {budget.currency}",
            },
        )
        for t in passed(budget.thresholds, spent, amount)
    ]


def percent(share: Decimal) -> str:
    """0.8 -> "80%"."""
    return f"{plain(share * 100)}%"

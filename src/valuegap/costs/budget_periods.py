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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from valuegap.costs.alerts import RaisedAlert
from valuegap.decimals import plain
from valuegap.months import month_starts, next_month
from valuegap.results import Money

SCOPES = ("initiative", "business_unit", "provider", "tag", "api_key")
PERIODS = ("monthly", "period")
DEFAULT_THRESHOLDS = (Decimal("0.8"), Decimal("1"))
CASE = "case:"  # the id of an initiative's budget that follows its business case: case:<id>


@dataclass(frozen=True)
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

    def period_of(self, day: date) -> Period | None:
        """The period that holds ``day``, if any."""
        month = day.replace(day=1)
        found = self.periods([month])
        return found[0] if found else None


@dataclass(frozen=True)
class Period:
    label: str  # 2026-03, or 2026-01..2026-06
    start: date  # its first month
    end: date  # the month after it

    @property
    def months(self) -> list[date]:
        return month_starts(self.start, self.end)


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
                f"{spent:,.2f} {currency} spent, {percent(t)} of {amount:,.2f} {currency} "
                "reached"
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

"""Daily spend: allocated cost day by day, per initiative, business unit, provider and model,
for the forecasts (``forecast.spend``) and the anomaly detection (``costs.anomaly``).

Cost is allocated as the cost report allocates it (``costs.allocation``: a month's invoice
split by that month's usage, splits by that month's drivers, currencies at the month's rate),
on sums that also keep the day a line falls on, so that a month's days add up to its row in
the cost report. Then:

- a usage event counts on the day of its time (UTC);
- a FOCUS line counts on the days of its charge period, evenly (``costs.split.divide``, so the
  days add up to the line): from the day it starts, as many days as it spans (at least one),
  within the month it starts in (the month the cost report counts it in). A monthly invoice is
  spread over its month; a daily cloud line stays on its day;
- an invoice line split among the month's usage (counting a dollar once) stays on its own days,
  divided among models in the proportions of the month;
- a manual cost (people, data, licences) is monthly: it is left out of the daily series, and
  kept apart by month (``manual``), so that a forecast of a month adds it as entered rather
  than invent a day on which a salary was spent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from valuegap.costs.allocation import AllocatedPart
from valuegap.costs.scope import CostScope
from valuegap.costs.split import divide
from valuegap.months import next_month
from valuegap.records import record

ZERO = Decimal(0)
# What a daily series can be summed by; a line of daily spend keeps all four.
DAILY_DIMENSIONS = ("initiative", "business_unit", "provider", "model")
# What the rollup's sums keep besides the rules' and the report's keys.
DAY_KEYS = ("day", "days")

# A line: its initiative, business unit, provider and model (as a report labels them).
LineKey = tuple[str | None, ...]


@record
class DailySums:
    """Allocated cost by day and line, the part of it that is estimated (usage no invoice
    covers yet), and the manual costs by month and line."""

    cost: dict[tuple[date, LineKey], Decimal]
    estimated: dict[tuple[date, LineKey], Decimal]
    manual: dict[tuple[date, LineKey], Decimal]

    def within(self, scope: CostScope) -> DailySums:
        """The sums of the lines that ``scope`` sees."""
        Sums = dict[tuple[date, LineKey], Decimal]

        def seen(sums: Sums) -> Sums:  # a line is its initiative, business unit, provider, model
            return {
                (day, line): v for (day, line), v in sums.items() if scope.sees(line[1], line[0])
            }

        return DailySums(seen(self.cost), seen(self.estimated), seen(self.manual))

    def series(
        self, by: Sequence[str], start: date, end: date
    ) -> dict[LineKey, dict[date, Decimal]]:
        """Cost by day in [start, end), per value of ``by`` (names from ``DAILY_DIMENSIONS``)."""
        found: dict[LineKey, dict[date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        for (day, line), amount in self.cost.items():
            if start <= day < end:
                found[project(line, by)][day] += amount
        return {key: dict(days) for key, days in found.items()}

    def lines(self, start: date, end: date) -> dict[LineKey, dict[date, Decimal]]:
        """Cost by day in [start, end), per line (every dimension)."""
        return self.series(DAILY_DIMENSIONS, start, end)

    def manual_of(self, by: Sequence[str], month: date) -> dict[LineKey, Decimal]:
        """The manual costs of ``month`` per value of ``by``."""
        found: dict[LineKey, Decimal] = defaultdict(lambda: ZERO)
        for (at, line), amount in self.manual.items():
            if at == month:
                found[project(line, by)] += amount
        return dict(found)


def project(line: LineKey, by: Sequence[str]) -> LineKey:
    """A line's values of ``by``."""
    return tuple(line[DAILY_DIMENSIONS.index(k)] for k in by)


def daily_sums(parts: Iterable[AllocatedPart]) -> DailySums:
    """``parts`` (allocated from sums that keep ``DAY_KEYS``) by day and line."""
    cost: dict[tuple[date, LineKey], Decimal] = defaultdict(lambda: ZERO)
    estimated: dict[tuple[date, LineKey], Decimal] = defaultdict(lambda: ZERO)
    manual: dict[tuple[date, LineKey], Decimal] = defaultdict(lambda: ZERO)
    for part in parts:
        line = tuple(_text(part.label(k)) for k in DAILY_DIMENSIONS)
        first = part.attributes.get("day")
        if not isinstance(first, date):  # a manual cost: monthly
            manual[(part.month, line)] += part.amount
            continue
        if not part.amount:
            continue
        for day, amount in spread(part.amount, first, _days(part)).items():
            cost[(day, line)] += amount
            if part.basis == "estimated":
                estimated[(day, line)] += amount
    return DailySums(dict(cost), dict(estimated), dict(manual))


def spread(amount: Decimal, first: date, days: int) -> dict[date, Decimal]:
    """``amount`` over ``days`` days from ``first`` (at least one), within ``first``'s month,
    evenly: the days add up to it."""
    left = (next_month(first) - first).days
    count = max(1, min(days, left))
    if count == 1:
        return {first: amount}
    shares = divide(amount, dict.fromkeys(range(count), 1))
    return {first + timedelta(days=n): share for n, share in shares.items()}


def _days(part: AllocatedPart) -> int:
    days = part.attributes.get("days")
    return int(days) if isinstance(days, int | str) else 1


def _text(value: str | date | None) -> str | None:
    return f"{value:%Y-%m}" if isinstance(value, date) else value

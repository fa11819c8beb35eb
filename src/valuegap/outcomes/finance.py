"""The finance formulas of PRODUCT.md section 2, on exact decimals.

- ROI = (value - total cost) / total cost; none when nothing was spent.
- Payback month: from the first month with cost, the first month from which cumulative value
  stays at or above cumulative cost; a crossing that did not last is reported as lapsed.
- Cost per successful outcome = total cost / successful outcomes.
- Attribution coverage = cost of the initiatives with a validated outcome / all AI cost,
  unallocated cost included; an initiative (or a unit's overhead, or the unallocated cost)
  whose credits exceed its charges counts as zero.
- Rates (override, acceptance, escalation) = count / decisions.

The ROI a business case plans is the forecast's (``forecast.ramp``).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from valuegap.bounds import WIDE, rounded
from valuegap.records import record

K = TypeVar("K", bound=Hashable)
Trend = Literal["falling", "rising", "flat"]

CENT = Decimal("0.01")
_RATIO = Decimal("0.0001")


def money(value: Decimal) -> Decimal:
    """Rounded to the cent, half to even."""
    return rounded(value, CENT)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> float | None:
    """A ratio for people and JSON (4 decimal places), none when the denominator is zero."""
    if not denominator:
        return None
    return float(rounded(WIDE.divide(Decimal(numerator), Decimal(denominator)), _RATIO))


def roi(value: Decimal, cost: Decimal) -> float | None:
    return ratio(value - cost, cost)


@record
class Payback:
    """When an initiative paid back: ``month``, the first from which cumulative value stays at
    or above cumulative cost to the end; ``lapsed``, an earlier month in which value reached
    cost but did not stay there (the latest such), if any."""

    month: date | None = None
    lapsed: date | None = None


def payback(
    value_by_month: Mapping[date, Decimal], cost_by_month: Mapping[date, Decimal]
) -> Payback:
    """Payback from the first month with cost (value before it does not count)."""
    spent = sorted(m for m, c in cost_by_month.items() if c > 0)
    if not spent:
        return Payback()
    months = sorted(m for m in set(value_by_month) | set(cost_by_month) if m >= spent[0])
    value = cost = Decimal(0)
    ahead: list[bool] = []
    for month in months:
        value += value_by_month.get(month, Decimal(0))
        cost += cost_by_month.get(month, Decimal(0))
        ahead.append(value >= cost)
    found = lapsed = None
    for n, month in enumerate(months):
        if ahead[n] and (n == 0 or not ahead[n - 1]):
            if all(ahead[n:]):
                found = month
                break
            lapsed = month
    return Payback(found, lapsed)


def cost_per_outcome(cost: Decimal, outcomes: Decimal | int) -> Decimal | None:
    return money(cost / outcomes) if outcomes else None


def coverage(costs: Mapping[K, Decimal], validated: Collection[K]) -> float | None:
    """Attribution coverage of ``costs`` (an initiative, a unit's overhead or the unallocated
    cost -> its net cost): the ``validated`` ones' cost over all cost. One whose credits
    exceed its charges counts as zero, so that coverage stays in [0, 1]; none when nothing
    was charged."""
    charged = {key: max(cost, Decimal(0)) for key, cost in costs.items()}
    covered = sum((c for key, c in charged.items() if key in validated), Decimal(0))
    return ratio(covered, sum(charged.values(), Decimal(0)))


def trend(values: Iterable[Decimal | float | None]) -> Trend | None:
    """``falling``, ``rising`` or ``flat``: the sign of the least-squares slope over all the
    known values (in order, one a step); none with fewer than two."""
    found = slope(values)
    if found is None:
        return None
    return "falling" if found < 0 else "rising" if found > 0 else "flat"


def slope(values: Iterable[Decimal | float | None]) -> float | None:
    """The least-squares slope of the known values against their position (0, 1, 2, ...)."""
    known = [(x, float(v)) for x, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    mean_x = sum(x for x, _ in known) / len(known)
    mean_y = sum(y for _, y in known) / len(known)
    spread = sum((x - mean_x) ** 2 for x, _ in known)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in known) / spread, 4)

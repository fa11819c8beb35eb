"""Manual cost entries: people, data acquisition and labelling, licences, operations,
opportunity cost. An entry covering several months is spread over them: evenly when it runs
from the first of a month to the first of a later month, else by days; the months' shares add
up to the entry exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import reduce
from typing import Literal, get_args

from valuegap.bounds import WIDE, rounded
from valuegap.months import month_starts, next_month, whole_months

Category = Literal["infrastructure", "development", "data", "operations", "opportunity"]
CATEGORIES: tuple[str, ...] = get_args(Category)
HEADER = (
    "period_start", "period_end", "category", "amount", "currency", "initiative",
    "business_unit", "description",
)  # fmt: skip
PEOPLE_COLUMNS = ("fte", "rate_per_month")
# The optional column kind: a cost (the default), or a credit, whose amount is negative (a
# refund, a rebate); a negative amount without it is refused.
KINDS = ("cost", "credit")
_STEP = Decimal("0.0000000001")


def spread(amount: Decimal, start: date, end: date) -> list[tuple[date, Decimal]]:
    """(month, share) pairs adding up to ``amount`` exactly."""
    months = month_starts(start, end)
    n = whole_months(start, end)
    if n is not None:
        weights = [Decimal(1)] * n
    else:
        weights = [Decimal((min(end, next_month(m)) - max(start, m)).days) for m in months]
    total = sum(weights)
    shares = [rounded(WIDE.divide(WIDE.multiply(amount, w), total), _STEP) for w in weights]
    shares[-1] = WIDE.add(shares[-1], WIDE.subtract(amount, reduce(WIDE.add, shares)))
    return list(zip(months, shares, strict=True))

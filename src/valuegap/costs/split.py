"""Dividing an amount exactly: the parts always add up to the whole.

An amount is divided in proportion to weights at the ledger's precision (ten decimal places):
each part is first its exact share rounded down to a whole number of 1e-10; the units that
rounding left over go, one each, to the parts that lost the most (the largest-remainder rule,
ties to the first name in order). So 90.00 among three is 30.00 each, and 100 among three is
33.3333333334, 33.3333333333, 33.3333333333.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from valuegap.bounds import WIDE

PLACES = Decimal("1e-10")  # the ledger's precision: DECIMAL(38, 10)
K = TypeVar("K", str, int)


def divide(amount: Decimal, weights: Mapping[K, Decimal | int]) -> dict[K, Decimal]:
    """``amount`` (to ten places) divided in proportion to ``weights`` (none negative, some
    positive); a negative amount (a credit) is divided as its size, and its parts negative."""
    if amount < 0:
        return {name: -part for name, part in divide(-amount, weights).items()}
    units = int(amount.quantize(PLACES, context=WIDE).scaleb(10, context=WIDE))
    names = sorted(weights)
    total = sum(Fraction(weights[n]) for n in names)
    if total <= 0 or any(weights[n] < 0 for n in names):
        raise ValueError(f"weights must be >= 0 and not all 0: {dict(weights)}")
    exact = {n: units * Fraction(weights[n]) / total for n in names}
    floors = {n: int(share) for n, share in exact.items()}  # int() rounds down: share >= 0
    left = units - sum(floors.values())
    order = {n: position for position, n in enumerate(names)}
    by_loss = sorted(names, key=lambda n: (floors[n] - exact[n], order[n]))
    for name in by_loss[:left]:
        floors[name] += 1
    return {n: Decimal(floors[n]).scaleb(-10, context=WIDE) for n in names}

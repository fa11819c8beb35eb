"""Decimals as people read them."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros or an exponent: 25050.2500000000 -> 25050.25, 9984.00 -> 9984."""
    if not value:
        return Decimal(0)  # never -0
    return Decimal(format(value.normalize(), "f"))

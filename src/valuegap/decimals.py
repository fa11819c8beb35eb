"""Decimals as people read them."""

from __future__ import annotations

import math
from decimal import Decimal

from valuegap.bounds import rounded

# ISO 4217 currencies whose minor unit is not the cent, by its decimals; every other has two.
_NOT_CENTS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
MINOR_UNITS = {code: places for places, codes in _NOT_CENTS.items() for code in codes.split()}


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros or an exponent: 25050.2500000000 -> 25050.25, 9984.00 -> 9984."""
    if not value:
        return Decimal(0)  # never -0
    return Decimal(format(value.normalize(), "f"))


def minor_unit(currency: str | None) -> int:
    """The decimals of ``currency``'s minor unit: 2 for USD and EUR, 0 for JPY; 2 if unknown."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def money(amount: Decimal, currency: str | None, *, exact: bool = False) -> str:
    """An amount as a table shows it, with thousands separators: to ``currency``'s minor unit
    (1,234.57 USD, 1,235 JPY), or with every decimal it has if ``exact`` (1,234.5678)."""
    return _to_places(amount, minor_unit(currency), exact)


def percent(ratio: Decimal, *, exact: bool = False) -> str:
    """A ratio as a percentage with one decimal (0.1421 -> 14.2%), or with every decimal it
    has if ``exact`` (14.21%)."""
    return _to_places(ratio * 100, 1, exact) + "%"


def points(change: Decimal) -> str:
    """A change of a ratio in percentage points, signed, one decimal: 0.03 -> +3.0 points,
    -0.1235 -> -12.4 points (rounded as ``percent`` rounds)."""
    shown = _to_places(change * 100, 1, False)
    return f"{shown if shown.startswith('-') else '+' + shown} points"


def quantity(value: Decimal, *, exact: bool = False) -> str:
    """A count or factor with two decimals (79.5275 -> 79.53), or with every decimal it has if
    ``exact``."""
    return _to_places(value, 2, exact)


def _to_places(value: Decimal, places: int, exact: bool) -> str:
    """``value`` with thousands separators and ``places`` decimals; if ``exact``, with more
    where it has more."""
    every = plain(value)
    exponent = every.as_tuple().exponent
    if exact and isinstance(exponent, int) and -exponent > places:
        shown = every
    else:
        shown = rounded(value, Decimal(1).scaleb(-places))
    return format(shown if shown else abs(shown), ",f")  # never -0.00


def significant(value: float, digits: int = 4) -> str:
    """A measured figure (an effect, its interval) to ``digits`` significant digits, with
    thousands separators and never in scientific notation: 15,000; 14,230; 122.8; 0.0312."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    places = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

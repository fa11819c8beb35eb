"""Currency conversion: each cost line keeps its currency; reports convert with the rates table.

The rate for a month is the latest one valid on the month's first day, for the pair itself or,
failing that, the inverse of the reverse pair. A line in a currency with no rate is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.errors import Problem, ValidationError


def monthly_rates(
    needed: Iterable[tuple[str, date]], rates: Iterable[Mapping[str, Any]], reporting: str
) -> dict[tuple[str, date], Decimal]:
    """(currency, month) -> rate into ``reporting``, for every pair in ``needed``."""
    table = sorted(rates, key=lambda r: r["valid_from"])
    found: dict[tuple[str, date], Decimal] = {}
    missing: list[Problem] = []
    for currency, month in sorted(set(needed)):
        if currency == reporting:
            continue
        rate = _latest(table, currency, reporting, month)
        if rate is None and (inverse := _latest(table, reporting, currency, month)) is not None:
            rate = (Decimal(1) / inverse).quantize(Decimal("1e-9"))
        if rate is None:
            missing.append(Problem(f"{currency} in {month:%Y-%m}",
                                   f"has no rate to {reporting} valid on {month}"))  # fmt: skip
        else:
            found[(currency, month)] = rate
    if missing:
        raise ValidationError(
            f"Some costs cannot be converted to {reporting}. Load rates with "
            "`Ledger.costs.ingest_rates()` (a file of valid_from,from_currency,to_currency,rate):",
            missing,
        )
    return found


def _latest(
    table: list[Mapping[str, Any]], source: str, target: str, month: date
) -> Decimal | None:
    rate = None
    for row in table:
        pair = (row["from_currency"], row["to_currency"]) == (source, target)
        if pair and row["valid_from"] <= month:
            rate = Decimal(row["rate"])
    return rate

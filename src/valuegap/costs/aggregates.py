"""Monthly cost aggregates: the allocated cost (``costs.allocation``) summed by month and by
every dimension of a cost report but tags, kept in the ledger so that reports read a few
thousand rows instead of allocating every fact again.

Allocation is month by month (a month's invoice is split by that month's usage, a split by
that month's drivers, a currency at that month's rate), so the aggregates of the months a write
touches are computed again with the full rollup restricted to those months, in the write's
transaction, and equal what a full recompute gives. A change that reaches every month (rules,
rates, an initiative's business unit, the allocation settings) computes them all.

The allocation settings (reporting currency, FOCUS cost column, token services, provider
aliases) live outside the ledger, so the aggregates remember those they were computed with:
opened with others, reports compute from the facts until the aggregates are rebuilt (the next
write that changes cost does it, or ``Ledger.costs.rebuild_aggregates``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.costs.allocation import AllocatedPart
from valuegap.months import month_starts
from valuegap.settings import Settings
from valuegap.store.aggregates import DIMENSIONS, SUMS

ZERO = Decimal(0)


def fingerprint(settings: Settings) -> str:
    """The settings that change how cost is allocated, as one text to compare."""
    services = [dataclasses.astuple(s) for s in settings.token_services]
    return json.dumps(
        {
            "reporting_currency": settings.reporting_currency,
            "cost_column": settings.cost_column,
            "token_services": services,
            "provider_aliases": dict(sorted(settings.provider_aliases.items())),
        },
        sort_keys=True,
        default=str,
    )


def aggregated(parts: Iterable[AllocatedPart]) -> list[dict[str, Any]]:
    """``parts`` summed by ``DIMENSIONS``: cost, the part of it that is estimated, and the
    usage events' own cost (as ``allocation.report`` sums them)."""
    totals: dict[tuple[Any, ...], dict[str, Decimal]] = {}
    for part in parts:
        key = tuple(part.label(k) for k in DIMENSIONS)
        sums = totals.setdefault(key, dict.fromkeys(SUMS, ZERO))
        sums["cost"] += part.amount
        sums["usage_cost"] += part.usage_cost
        if part.basis == "estimated":
            sums["estimated"] += part.amount
    return [{**dict(zip(DIMENSIONS, key, strict=True)), **sums} for key, sums in totals.items()]


def months_of(totals: Mapping[str, Mapping[str, Any]]) -> list[date]:
    """The months of an audit entry's totals (table -> "YYYY-MM" -> measures)."""
    found = {month for months in totals.values() for month in months}
    return sorted(date.fromisoformat(f"{month}-01") for month in found)


def months_touched(start: date, end: date | None) -> list[date] | None:
    """The months with a day in [start, end); None (every month) when there is no end."""
    return None if end is None else month_starts(start, end)

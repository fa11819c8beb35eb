"""True-ups: a provider's invoice arrives for a month whose usage was counted as an estimate.

Until a provider's invoice for a month is in the ledger, its usage events' own cost stands as an
estimate. The FOCUS ingest that brings the month's first token-service lines of that provider
replaces the estimate with the invoice (from then on the usage only splits it); it records
what changed, per provider and month, in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.model.ingest import TrueUp as TrueUp
from valuegap.model.providers import TokenService, catalogue_id, token_service_key

Pool = tuple[str, date]  # a provider key and a month


def invoiced_pools(
    lines: Iterable[Mapping[str, Any]],
    services: Sequence[TokenService],
    aliases: Mapping[str, str],
) -> set[Pool]:
    """The provider keys and months that token-service lines among ``lines`` (provider,
    service, month) bill."""
    found = set()
    for row in lines:
        key = token_service_key(services, row["provider"], row["service"], aliases)
        if key is not None:
            found.add((key, row["month"]))
    return found


def true_ups(
    lines: Iterable[Mapping[str, Any]],
    usage: Iterable[Mapping[str, Any]],
    services: Sequence[TokenService],
    aliases: Mapping[str, str],
) -> list[TrueUp]:
    """The true-ups an ingest made. ``lines``: the FOCUS lines of its months, summed by
    provider, service, month and currency, with its own cost and lines and the lines of
    earlier ingests; ``usage``: the model calls of those months by provider and month. A
    provider's month is trued up when the ingest brought its first token-service lines, of
    any service, and there was usage to estimate."""
    invoiced: dict[Pool, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    earlier: set[Pool] = set()
    for row in lines:
        key = token_service_key(services, row["provider"], row["service"], aliases)
        if key is None:
            continue
        if row["lines"]:
            invoiced[(key, row["month"])][row["currency"]] += row["cost"] or 0
        if row["earlier_lines"]:
            earlier.add((key, row["month"]))
    estimated: dict[Pool, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in usage:
        pool = (catalogue_id(row["provider"], aliases) or "(none)", row["month"])
        if row["estimated"] is not None:
            estimated[pool][row["currency"]] += row["estimated"]
    return [
        TrueUp(provider, month, dict(estimated[(provider, month)]), dict(amounts))
        for (provider, month), amounts in sorted(invoiced.items())
        if (provider, month) not in earlier and (provider, month) in estimated
    ]

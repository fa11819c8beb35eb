"""True-ups: a provider's invoice arrives for a month whose usage was counted as an estimate.

Until a provider's invoice for a month is in the ledger, its usage events' own cost stands as an
estimate. The FOCUS ingest that brings the month's first token-service lines of that provider
replaces the estimate with the invoice (from then on the usage only splits it); it records
what changed, per provider and month, in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.costs.providers import TokenService, catalogue_id, token_service_key
from valuegap.decimals import plain


@dataclass(frozen=True)
class TrueUp:
    provider: str  # the provider key (as in reconciliation)
    month: date
    estimated: Mapping[str, Decimal]  # currency -> the usage's own cost, counted until now
    invoiced: Mapping[str, Decimal]  # currency -> the invoice's token lines, counted from now

    def estimate(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "month": f"{self.month:%Y-%m}",
            "cost": {c: str(plain(a)) for c, a in self.estimated.items()},
        }

    def invoice(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "month": f"{self.month:%Y-%m}",
            "cost": {c: str(plain(a)) for c, a in self.invoiced.items()},
        }


def true_ups(
    lines: Iterable[Mapping[str, Any]],
    usage: Callable[[list[date], set[str]], Iterable[Mapping[str, Any]]],
    services: Sequence[TokenService],
    aliases: Mapping[str, str],
) -> list[TrueUp]:
    """The true-ups an ingest made. ``lines``: its FOCUS lines summed by provider, service,
    month and currency, with the lines of earlier ingests of the same provider, service and
    month (``earlier_lines``); ``usage(months, providers)``: the ledger's model calls of those
    months and provider keys, by provider and month."""
    invoiced: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    earlier: set[tuple[str, date]] = set()
    for row in lines:
        key = token_service_key(services, row["provider"], row["service"])
        if key is None:
            continue
        if row["lines"]:
            invoiced[(key, row["month"])][row["currency"]] += row["cost"] or 0
        if row["earlier_lines"]:
            earlier.add((key, row["month"]))
    first = {pool: amounts for pool, amounts in invoiced.items() if pool not in earlier}
    if not first:
        return []
    estimated: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for row in usage(sorted({month for _, month in first}), {key for key, _ in first}):
        pool = (catalogue_id(row["provider"], aliases) or "(none)", row["month"])
        if pool in first and row["estimated"] is not None:
            estimated[pool][row["currency"]] += row["estimated"]
    return [
        TrueUp(provider, month, dict(estimated[(provider, month)]), dict(amounts))
        for (provider, month), amounts in sorted(first.items())
        if (provider, month) in estimated
    ]

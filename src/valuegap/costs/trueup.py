"""True-ups: a provider's invoice arrives for a month whose usage was counted as an estimate.

Until a provider's invoice for a month is in the ledger, its usage events' own cost stands as an
estimate. The FOCUS ingest that brings the month's first token-service lines of that provider
replaces the estimate with the invoice (from then on the usage only splits it); it records
what changed, per provider and month, in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
        return {"provider": self.provider, "month": f"{self.month:%Y-%m}",
                "cost": {c: str(plain(a)) for c, a in self.estimated.items()}}  # fmt: skip

    def invoice(self) -> dict[str, Any]:
        return {"provider": self.provider, "month": f"{self.month:%Y-%m}",
                "cost": {c: str(plain(a)) for c, a in self.invoiced.items()}}  # fmt: skip


def true_ups(
    new_lines: Iterable[Mapping[str, Any]],
    all_lines: Iterable[Mapping[str, Any]],
    usage: Iterable[Mapping[str, Any]],
    services: Sequence[TokenService],
    aliases: Mapping[str, str],
) -> list[TrueUp]:
    """The true-ups an ingest made: ``new_lines`` are its FOCUS lines summed by provider,
    service, month and currency, ``all_lines`` the ledger's (the new ones included), and
    ``usage`` the ledger's model calls by provider and month."""
    invoiced: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    new_count: dict[tuple[str, date], int] = defaultdict(int)
    for row in new_lines:
        key = token_service_key(services, row["provider"], row["service"])
        if key is not None:
            invoiced[(key, row["month"])][row["currency"]] += row["cost"] or 0
            new_count[(key, row["month"])] += row["lines"]
    all_count: dict[tuple[str, date], int] = defaultdict(int)
    for row in all_lines:
        key = token_service_key(services, row["provider"], row["service"])
        if key is not None and (key, row["month"]) in new_count:
            all_count[(key, row["month"])] += row["lines"]
    estimated: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for row in usage:
        pool = (catalogue_id(row["provider"], aliases) or "(none)", row["month"])
        if pool in new_count and row["estimated"] is not None:
            estimated[pool][row["currency"]] += row["estimated"]
    return [
        TrueUp(provider, month, dict(estimated[(provider, month)]), dict(amounts))
        for (provider, month), amounts in sorted(invoiced.items())
        if (provider, month) in estimated
        and all_count[(provider, month)] == new_count[(provider, month)]
    ]

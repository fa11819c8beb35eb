"""Reconciliation: does the usage cost valuegap computes match what the provider invoiced?

The most common complaint about LLM cost trackers is that their figure does not match the bill.
Per provider and month, the invoiced cost is the FOCUS usage of AI services (BilledCost) and the
computed cost is the sum of the usage events as priced; a gap beyond the tolerance (a share of
the invoiced cost) is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

# Both sides' provider names -> one key.
PROVIDER_KEYS = {
    "aws.bedrock": "aws", "amazon web services": "aws", "amazon": "aws",
    "azure.ai.openai": "microsoft", "azure.ai.inference": "microsoft", "azure": "microsoft",
    "microsoft azure": "microsoft", "gcp.vertex_ai": "google", "gcp.gemini": "google",
    "gcp.gen_ai": "google", "google cloud": "google", "x_ai": "xai",
}  # fmt: skip


def provider_key(name: str | None) -> str:
    key = (name or "(none)").strip().lower()
    return PROVIDER_KEYS.get(key, key)


def reconcile(
    rows: Iterable[Mapping[str, Any]],
    rates: Mapping[tuple[str, date], Decimal],
    reporting: str,
    tolerance: Decimal,
) -> list[dict[str, Any]]:
    totals: dict[tuple[str, date], dict[str, Any]] = {}
    for row in rows:
        key = (provider_key(row["provider"]), row["month"])
        entry = totals.setdefault(key, {"invoiced": Decimal(0), "computed": Decimal(0),
                                        "unpriced_events": 0, "has_invoice": False,
                                        "has_usage": False})  # fmt: skip
        rate = (
            Decimal(1) if row["currency"] == reporting else rates[(row["currency"], row["month"])]
        )
        if row["invoiced"] is not None:
            entry["invoiced"] += row["invoiced"] * rate
            entry["has_invoice"] = True
        if row["computed"] is not None or row["unpriced_events"]:
            entry["has_usage"] = True
        entry["computed"] += (row["computed"] or 0) * rate
        entry["unpriced_events"] += row["unpriced_events"] or 0
    result = []
    for (provider, month), entry in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        invoiced = entry["invoiced"].quantize(Decimal("0.01"))
        computed = entry["computed"].quantize(Decimal("0.01"))
        gap = computed - invoiced
        share = round(float(gap / invoiced), 4) if invoiced else None
        if not entry["has_usage"]:
            status = "no_usage"
        elif not entry["has_invoice"]:
            status = "no_invoice"
        elif abs(gap) > abs(invoiced) * tolerance:
            status = "gap"
        else:
            status = "ok"
        result.append({
            "provider": provider, "month": f"{month:%Y-%m}", "invoiced": invoiced,
            "computed": computed,
            "gap": gap, "gap_share": share, "unpriced_events": entry["unpriced_events"],
            "status": status, "currency": reporting,
        })  # fmt: skip
    return sorted(result, key=lambda row: row["status"] == "no_usage")

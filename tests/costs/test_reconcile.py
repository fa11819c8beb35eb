from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from valuegap import Ledger

HEADER = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory"
)


def _spans(path: Path, month: int, input_tokens: int) -> None:
    when = datetime(2025, month, 5, tzinfo=UTC)
    path.write_text(json.dumps({
        "traceId": f"{month:032d}", "spanId": f"{month:016d}",
        "startTimeUnixNano": str(int(when.timestamp() * 1e9)),
        "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                       "gen_ai.usage.input_tokens": input_tokens,
                       "gen_ai.usage.output_tokens": 0},
    }) + "\n")  # fmt: skip


def test_gaps_beyond_the_tolerance_are_flagged(ledger: Ledger, tmp_path: Path) -> None:
    bill = tmp_path / "openai-focus.csv"
    bill.write_text("\n".join([
        HEADER,
        "org,USD,2025-05-01,2025-05-01,2025-06-01,Usage,25.00,25.00,OpenAI,API,"
        "AI and Machine Learning",
        "org,USD,2025-06-01,2025-06-01,2025-07-01,Usage,25.00,25.00,OpenAI,API,"
        "AI and Machine Learning",
    ]) + "\n")  # fmt: skip
    ledger.ingest_focus([bill])
    # gpt-4o input at 2.50 USD per million tokens: 10 M tokens = 25.00; 8 M tokens = 20.00.
    may, june = tmp_path / "may.jsonl", tmp_path / "june.jsonl"
    _spans(may, 5, 10_000_000)
    _spans(june, 6, 8_000_000)
    ledger.ingest_usage(may, "otel")
    ledger.ingest_usage(june, "otel")
    rows = {int(r["month"][5:]): r for r in ledger.reconcile(Decimal("0.05"))}
    assert (rows[5]["invoiced"], rows[5]["computed"], rows[5]["status"]) == (
        Decimal("25.00"),
        Decimal("25.00"),
        "ok",
    )
    assert (rows[6]["gap"], rows[6]["gap_share"], rows[6]["status"]) == (
        Decimal("-5.00"),
        -0.2,
        "gap",
    )

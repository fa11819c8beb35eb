from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from valuegap import Ledger

HEADER = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory"
)  # the OpenAI invoice: every OpenAI service is token spend


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
    ledger.costs.ingest_focus([bill])
    # gpt-4o input at 2.50 USD per million tokens: 10 M tokens = 25.00; 8 M tokens = 20.00.
    may, june = tmp_path / "may.jsonl", tmp_path / "june.jsonl"
    _spans(may, 5, 10_000_000)
    _spans(june, 6, 8_000_000)
    ledger.costs.ingest_usage(may, "otel")
    ledger.costs.ingest_usage(june, "otel")
    rows = {int(r.month[5:]): r for r in ledger.costs.reconcile(Decimal("0.05"))}
    assert (rows[5].invoiced, rows[5].computed, rows[5].status) == (
        Decimal("25.00"),
        Decimal("25.00"),
        "ok",
    )
    assert (rows[6].gap, rows[6].gap_share, rows[6].status) == (
        Decimal("-5.00"),
        -0.2,
        "gap",
    )


AZURE = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ListCost,ProviderName,ServiceName,ServiceCategory,"
    "InvoiceId\n"
    "ea,USD,2025-05-01,2025-05-01,2025-06-01,Usage,22.50,22.50,25.00,Microsoft,"
    "Azure OpenAI Service,AI and Machine Learning,G-0501\n"
    "ea,USD,2025-05-01,2025-05-01,2025-06-01,Usage,300.00,300.00,300.00,Microsoft,"
    "Azure AI Document Intelligence,AI and Machine Learning,G-0501\n"
)


def test_only_token_services_are_reconciled_with_the_invoice_id_and_explanation(
    ledger: Ledger, tmp_path: Path
) -> None:
    bill = tmp_path / "azure.csv"
    bill.write_text(AZURE)
    ledger.costs.ingest_focus([bill])
    spans = tmp_path / "spans.jsonl"
    when = int(datetime(2025, 5, 5, tzinfo=UTC).timestamp() * 1e9)
    spans.write_text(json.dumps({
        "traceId": "1" * 32, "spanId": "2" * 16, "startTimeUnixNano": str(when),
        "attributes": {"gen_ai.provider.name": "azure.ai.openai", "gen_ai.request.model": "gpt-4o",
                       "gen_ai.usage.input_tokens": 10_000_000,
                       "gen_ai.usage.cache_read.input_tokens": 2_000_000,
                       "gen_ai.usage.output_tokens": 0,
                       "openai.response.service_tier": "priority"},
    }) + "\n")  # fmt: skip
    ledger.costs.ingest_usage(spans, "otel")
    [row] = ledger.costs.reconcile()
    # Document Intelligence (300) is not token spend: the invoiced side is 22.50 only.
    assert (row.provider, row.services, row.invoice_ids) == (
        "azure", ["Azure OpenAI Service"], ["G-0501"],
    )  # fmt: skip
    # gpt-4o on Azure at 2.50 in, 1.25 cached per million: 8 M x 2.50 + 2 M x 1.25 = 22.50.
    assert (row.invoiced, row.computed, row.status) == (
        Decimal("22.50"), Decimal("22.50"), "ok",
    )  # fmt: skip
    said = " ".join(row.explanation)
    assert "Cache reads were 20.0% and cache writes 0.0% of input tokens" in said
    assert "1 call ran in the priority tier" in said
    assert "10.0% below its list cost" in said
    # The invoice counts once: Document Intelligence stays a line of its own.
    costs = {r.service: r.cost for r in ledger.costs.cost_report(["service"])}
    assert costs == {"Azure OpenAI Service": Decimal("22.5"),
                     "Azure AI Document Intelligence": Decimal("300"), None: 0}  # fmt: skip


def test_credits_on_the_invoice_are_named_not_compared(ledger: Ledger, tmp_path: Path) -> None:
    bill = tmp_path / "openai-focus.csv"
    usage = "org,USD,2025-05-01,2025-05-01,2025-06-01,Usage,25.00,25.00,OpenAI,API,AI and ML"
    credit = usage.replace("Usage,25.00,25.00", "Credit,-10.00,-10.00")
    bill.write_text("\n".join([HEADER, usage, credit]) + "\n")
    ledger.costs.ingest_focus([bill])
    may = tmp_path / "may.jsonl"
    _spans(may, 5, 10_000_000)  # 25.00 at gpt-4o's 2.50 USD per million input tokens
    ledger.costs.ingest_usage(may, "otel")
    [row] = ledger.costs.reconcile()
    assert (row.invoiced, row.computed, row.status) == (
        Decimal("25.00"),
        Decimal("25.00"),
        "ok",
    )
    assert "The invoice also holds -10.00 of Credit charges" in " ".join(row.explanation)


def test_an_organisation_price_from_next_month_is_not_named(ledger: Ledger, tmp_path: Path) -> None:
    june = tmp_path / "june.jsonl"
    _spans(june, 6, 8_000_000)
    ledger.costs.ingest_usage(june, "otel")
    ledger.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal(2),
        output_per_mtok=Decimal(8),
        valid_from=datetime(2025, 6, 1).date(),
        valid_to=datetime(2025, 7, 1).date(),
    )
    ledger.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal(3),
        output_per_mtok=Decimal(9),
        valid_from=datetime(2025, 7, 1).date(),
    )
    [row] = ledger.costs.reconcile()
    said = " ".join(row.explanation)
    assert "gpt-4o 2/8 USD per million tokens from 2025-06-01" in said
    assert "from 2025-07-01" not in said

"""Every dollar counted once: an invoice's token lines are the cost, split by the usage events of
their provider and month; usage no invoice covers yet is an estimate until one does."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from valuegap import Ledger
from valuegap.costs.cost_report import CostLine

TOLERANCE = Decimal("1e-8")  # sums converted once against lines converted one by one


def _total(rows: list[CostLine], key: str = "cost") -> Decimal:
    return sum((getattr(r, key) for r in rows), Decimal(0))


def test_the_demo_total_is_invoices_plus_manual_costs_plus_uninvoiced_usage(demo: Path) -> None:
    con = duckdb.connect(str(demo), read_only=True)
    focus = con.execute("SELECT sum(effective_cost) FROM focus_lines").fetchone()[0]
    # Manual costs, each month's share converted at the latest rate valid on its first day.
    manual = con.execute(
        """SELECT sum(CASE WHEN currency = 'USD' THEN amount ELSE amount * (
                SELECT rate FROM currency_rates r WHERE r.from_currency = m.currency
                  AND r.to_currency = 'USD' AND r.valid_from <= m.month
                ORDER BY valid_from DESC LIMIT 1) END)
        FROM manual_costs m"""
    ).fetchone()[0]
    # The demo's only token invoice is OpenAI's, for every month with OpenAI usage: the
    # usage that no invoice covers is everyone else's.
    uninvoiced = con.execute(
        """SELECT sum(coalesce(reported_cost, computed_cost)) FROM usage_events u
        WHERE NOT EXISTS (SELECT 1 FROM focus_lines f WHERE f.provider = 'OpenAI'
            AND u.provider = 'openai'
            AND date_trunc('month', f.charge_period_start) = date_trunc('month', u.ts))"""
    ).fetchone()[0]
    con.close()
    with Ledger.open(demo, actor="exec.board") as ledger:
        rows = ledger.costs.cost_report(["source", "provider"])
    assert abs(_total(rows) - (focus + manual + uninvoiced)) < TOLERANCE
    assert abs(_total(rows, "estimated") - uninvoiced) < TOLERANCE
    by_source = {(r.source, r.provider): r for r in rows}
    assert by_source[("focus", "OpenAI")].cost == Decimal("387.35")
    # The OpenAI usage events count nothing of their own: the invoice is their cost. They
    # show under the invoice's provider name.
    assert by_source[("otel", "OpenAI")].cost == 0
    assert by_source[("otel", "OpenAI")].usage_cost > 300
    assert not any(provider == "openai" for _, provider in by_source)
    with Ledger.open(demo, actor="exec.board") as ledger:
        [openai] = [r for r in ledger.costs.cost_report(["provider"]) if r.provider == "OpenAI"]
    assert (openai.cost, openai.usage_cost) == (
        Decimal("387.35"),
        by_source[("otel", "OpenAI")].usage_cost,
    )


def test_the_demo_openai_invoice_is_split_by_the_initiatives_usage(demo: Path) -> None:
    con = duckdb.connect(str(demo), read_only=True)
    invoice = dict(
        con.execute(
            """SELECT strftime(charge_period_start, '%Y-%m'), sum(effective_cost)
        FROM focus_lines WHERE provider = 'OpenAI' GROUP BY ALL"""
        ).fetchall()
    )
    usage: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for month, initiative, cost in con.execute(
        """SELECT strftime(ts, '%Y-%m'), coalesce(initiative, '(unallocated)'),
            sum(computed_cost) FROM usage_events WHERE provider = 'openai' GROUP BY ALL"""
    ).fetchall():
        usage[month][initiative] = cost
    con.close()
    with Ledger.open(demo, actor="exec.board") as ledger:
        rows = ledger.costs.cost_report(["source", "provider", "month", "initiative"])
    parts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        if (r.source, r.provider) == ("focus", "OpenAI"):
            parts[r.month][r.initiative] = r.cost
    assert sum(invoice.values()) == Decimal("387.35")
    assert set(parts) == set(invoice) and len(invoice) == 18
    for month, amount in invoice.items():
        assert sum(parts[month].values()) == amount  # to the cent of the invoice, exactly
        total = sum(usage[month].values())
        for initiative, used in usage[month].items():
            assert abs(parts[month][initiative] - amount * used / total) <= Decimal("1e-10")


def test_the_demo_reconciliation_is_like_for_like_and_explains_its_gap(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board") as ledger:
        rows = ledger.costs.reconcile()
    statuses = {(r.provider, r.month): r.status for r in rows}
    assert statuses[("openai", "2026-03")] == "gap"
    assert [k for k, s in statuses.items() if s == "gap"] == [("openai", "2026-03")]
    assert statuses[("anthropic", "2025-06")] == "estimate"  # no Anthropic invoice
    assert statuses[("aws", "2025-06")] == "no_usage"  # Bedrock tokens, no usage events
    services = {s for r in rows for s in r.services}
    assert services == {"OpenAI API", "Amazon Bedrock"}  # GPUs and storage are not tokens
    [gap] = [r for r in rows if r.status == "gap"]
    assert gap.invoiced > gap.computed
    assert any("never instrumented" in sentence for sentence in gap.explanation)


def _span(n: int, when: datetime, tokens: int, initiative: str) -> str:
    return json.dumps(
        {
            "traceId": f"{n:032x}",
            "spanId": f"{n:016x}",
            "startTimeUnixNano": str(int(when.timestamp()) * 10**9),
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": tokens,
                "gen_ai.usage.output_tokens": 0,
                "valuegap.initiative": initiative,
            },
        }
    )


INVOICE = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ServiceProviderName,ServiceName,ServiceCategory,"
    "InvoiceId\n"
    "org,USD,2026-03-01,2026-03-01,2026-04-01,Usage,{cost},{cost},OpenAI,OpenAI API,"
    "AI and Machine Learning,INV-2026-03\n"
)


@pytest.fixture
def estimated(ledger: Ledger, example_portfolio: Path, tmp_path: Path) -> Ledger:
    """March 2026: loc-qa made calls of 3 M input tokens and doc-classifier of 1 M, on
    gpt-4o at 2.50 USD per million: 7.50 and 2.50, with no invoice yet."""
    ledger.portfolio.apply_file(example_portfolio)
    spans = tmp_path / "march.jsonl"
    spans.write_text(
        "\n".join(
            _span(n, datetime(2026, 3, 1 + n, tzinfo=UTC), tokens, name)
            for n, (tokens, name) in enumerate(
                [(2_000_000, "loc-qa"), (1_000_000, "loc-qa"), (1_000_000, "doc-classifier")]
            )
        )
        + "\n"
    )
    ledger.costs.ingest_usage(spans, "otel")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}\n"
        "  - {id: docs, match: {tag.initiative: doc-classifier},"
        " initiative: doc-classifier}\n"
    )
    ledger.costs.apply_rules(rules)
    return ledger


def test_usage_is_an_estimate_until_the_invoice_trues_it_up(
    estimated: Ledger, tmp_path: Path
) -> None:
    before = {r.initiative: r for r in estimated.costs.cost_report(["initiative"])}
    assert (before["loc-qa"].cost, before["loc-qa"].estimated) == (7.5, 7.5)
    assert before["doc-classifier"].cost == Decimal("2.5")
    invoice = tmp_path / "openai-march.csv"
    invoice.write_text(INVOICE.format(cost="12.00"))  # the invoice says 12.00, not 10.00
    [result] = estimated.costs.ingest_focus([invoice])
    [true_up] = result.true_ups
    assert (true_up.provider, f"{true_up.month:%Y-%m}") == ("openai", "2026-03")
    assert (true_up.estimated, true_up.invoiced) == ({"USD": Decimal("10")}, {"USD": Decimal("12")})
    after = {r.initiative: r for r in estimated.costs.cost_report(["initiative"])}
    # 12.00 split 3:1 by the usage: 9.00 and 3.00; nothing is an estimate any more.
    assert (after["loc-qa"].cost, after["loc-qa"].estimated) == (9, 0)
    assert (after["doc-classifier"].cost, after["loc-qa"].usage_cost) == (3, 7.5)
    entry = next(e for e in estimated.governance.audit.audit_log() if e.action == "costs.true_up")
    said = json.loads(entry.after or "{}")
    assert said == {
        "true_ups": [
            {
                "provider": "openai",
                "month": "2026-03",
                "estimated": {"USD": "10"},
                "invoiced": {"USD": "12"},
            }
        ]
    }
    [row] = estimated.costs.reconcile()
    assert (row.invoiced, row.computed, row.invoice_ids) == (
        Decimal("12.00"),
        Decimal("10.00"),
        ["INV-2026-03"],
    )
    # A second invoice line for the same month is no new true-up: the estimate is gone.
    more = tmp_path / "openai-march-adjustment.csv"
    more.write_text(INVOICE.format(cost="-1.00").replace("Usage", "Adjustment"))
    assert estimated.costs.ingest_focus([more])[0].true_ups == ()
    assert _total(estimated.costs.cost_report(["initiative"])) == Decimal("11")


def test_usage_with_no_price_still_splits_its_invoice_by_tokens(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    spans = tmp_path / "spans.jsonl"
    spans.write_text(
        "\n".join(
            _span(n, datetime(2026, 3, 2, n, tzinfo=UTC), tokens, name).replace(
                "gpt-4o", "in-house"
            )
            for n, (tokens, name) in enumerate([(300, "loc-qa"), (100, "doc-classifier")])
        )
        + "\n"
    )
    ledger.costs.ingest_usage(spans, "otel")
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(INVOICE.format(cost="8.00"))
    ledger.costs.ingest_focus([invoice])
    rows = {r.tags["initiative"]: r.cost for r in ledger.costs.cost_report(["tag:initiative"])}
    assert rows == {"loc-qa": 6, "doc-classifier": 2}


def test_a_second_service_of_an_invoiced_month_is_no_new_true_up(
    estimated: Ledger, tmp_path: Path
) -> None:
    invoice = tmp_path / "chat.csv"
    invoice.write_text(INVOICE.format(cost="12.00"))
    assert len(estimated.costs.ingest_focus([invoice])[0].true_ups) == 1
    embeddings = tmp_path / "embeddings.csv"
    embeddings.write_text(INVOICE.format(cost="1.00").replace("OpenAI API", "OpenAI Embeddings"))
    assert estimated.costs.ingest_focus([embeddings])[0].true_ups == ()
    assert [e.action for e in estimated.governance.audit.audit_log()].count("costs.true_up") == 1
    # Both services are OpenAI's token spend: 13.00 split 3:1 by the usage.
    totals = {r.initiative: r.cost for r in estimated.costs.cost_report(["initiative"])}
    assert totals == {"loc-qa": Decimal("9.75"), "doc-classifier": Decimal("3.25")}

"""Counts that are counts, and credits only where the source says credit: fractional or negative
tokens and negative usage costs are refused in every usage reader; a negative FOCUS cost only
on a Credit, Adjustment or Tax line or a ChargeClass Correction; a negative manual amount only
on a row of kind credit. Each refusal names file, row, column and value and stores nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError

FOCUS = Path(__file__).parent.parent / "data" / "focus-1.2-minimal.csv"
TOKENS = "is not a whole number of tokens from 0 to 1,000,000,000,000"
NEGATIVE_COST = (
    "is negative: a usage cost is what a call cost, 0 or more (a refund or credit belongs on "
    "the bill, FOCUS, or among manual costs as a credit)"
)


def _span(line: int, attributes: dict[str, object]) -> str:
    values = [
        {"key": k, "value": {"doubleValue" if isinstance(v, float) else "intValue": v}}
        if not isinstance(v, str)
        else {"key": k, "value": {"stringValue": v}}
        for k, v in attributes.items()
    ]
    span = {
        "traceId": "t",
        "spanId": f"s{line}",
        "startTimeUnixNano": "1735689600000000000",
        "attributes": values,
    }
    return json.dumps(span)


def _nothing_stored(ledger: Ledger) -> None:
    for table in ("usage_events", "focus_lines", "manual_costs", "ingests"):
        assert ledger.session.db.one(f"SELECT count(*) FROM {table}") == (0,), table


def test_fractional_and_negative_tokens_are_refused_in_otel(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    base = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    path.write_text(
        "\n".join(
            [
                _span(
                    1, {**base, "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5}
                ),
                _span(2, {**base, "gen_ai.usage.input_tokens": 1.5}),
                _span(3, {**base, "gen_ai.usage.output_tokens": -4}),
                _span(
                    4,
                    {
                        **base,
                        "gen_ai.usage.output_tokens": 5,
                        "gen_ai.usage.reasoning.output_tokens": 2.25,
                    },
                ),
            ]
        )
        + "\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 2, column 'input_tokens': {TOKENS} (found '1.5')",
        f"{path}, row 3, column 'output_tokens': {TOKENS} (found '-4')",
        f"{path}, row 4, column 'reasoning_tokens': {TOKENS} (found '2.25')",
    ]
    _nothing_stored(ledger)


def test_fractional_tokens_and_negative_spend_are_refused_in_litellm(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "spend.csv"
    path.write_text(
        "request_id,spend,prompt_tokens,completion_tokens,startTime,model,custom_llm_provider\n"
        "r1,0.004,1000,500,2025-03-01 10:00:00,gpt-4o-mini,openai\n"
        "r2,-0.004,1000,500,2025-03-01 10:00:00,gpt-4o-mini,openai\n"
        "r3,0.004,1000,12.0,2025-03-01 10:00:00,gpt-4o-mini,openai\n"
        "r4,0.004,1000.5,500,2025-03-01 10:00:00,gpt-4o-mini,openai\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "litellm")
    # 12.0 is a whole number (row 3 is fine); 1000.5 is not; -0.004 is a negative spend.
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 2, column 'spend': {NEGATIVE_COST} (found '-0.004')",
        f"{path}, row 4, column 'prompt_tokens': {TOKENS} (found '1000.5')",
    ]
    _nothing_stored(ledger)


def test_a_csv_mapping_refuses_negative_cache_tokens_and_cost(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "ts,m,in,cached,usd\n"
        "2025-01-01T00:00:00Z,gpt-4o,100,-1,0.01\n"
        "2025-01-01T00:00:00Z,gpt-4o,100,0,-5\n"
    )
    mapping = {
        "timestamp": "ts",
        "request_model": "m",
        "input_tokens": "in",
        "cache_read_tokens": "cached",
        "cost": "usd",
    }
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv", mapping)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 1, column 'cached': {TOKENS} (found '-1')",
        f"{path}, row 2, column 'usd': {NEGATIVE_COST} (found '-5')",
    ]
    _nothing_stored(ledger)


def _focus(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """The test file's first line, once per (ChargeCategory, ChargeClass, cost)."""
    header, line = FOCUS.read_text().splitlines()[:2]
    lines = []
    for n, (category, charge_class, cost) in enumerate(rows):
        text = line.replace("1200.50", cost).replace("1100.25", cost).replace("1300.00", cost)
        text = text.replace("1400.00", cost).replace(",Usage,,", f",{category},{charge_class},")
        lines.append(text.replace("p5.48xlarge\n", "").replace("acct-1", f"acct-{n}"))
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_real_bills_keep_their_negative_credits(ledger: Ledger, tmp_path: Path) -> None:
    path = _focus(
        tmp_path / "bill.csv",
        [
            ("Usage", "", "10.00"),
            ("Credit", "", "-5.00"),  # a promotional credit, a refund, a discount
            ("Adjustment", "", "-2.00"),  # a change after the fact
            ("Tax", "", "-1.00"),  # a tax refund (the spec does not forbid it)
            ("Usage", "Correction", "-3.00"),  # a correction of an earlier billing period
        ],
    )
    assert ledger.costs.ingest_focus([path])[0].rows_added == 5
    # -1.00 of tax, and every line at its own cost: 10 - 5 - 2 - 1 - 3 = -1
    assert ledger.session.db.one("SELECT sum(effective_cost) FROM focus_lines") == (Decimal(-1),)
    # Also the test file: a Credit line of -50.00
    assert ledger.costs.ingest_focus([FOCUS])[0].rows_added == 5


def test_a_negative_cost_on_a_usage_or_purchase_line_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = _focus(
        tmp_path / "bill.csv",
        [
            ("Usage", "", "10.00"),
            ("Usage", "", "-3.00"),
            ("Purchase", "", "-0.01"),
        ],
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([path])
    said = (
        "is negative on a Usage or Purchase line: a refund, discount or credit is a Credit "
        "line, a later change an Adjustment, a correction of an earlier billing period has "
        "ChargeClass Correction"
    )
    problems = [str(p) for p in refused.value.problems]
    assert f"{path}, row 2, column 'BilledCost': {said} (found '-3.00')" in problems
    assert f"{path}, row 2, column 'EffectiveCost': {said} (found '-3.00')" in problems
    assert all("row 3" not in p for p in problems)  # the first bad row of each check
    _nothing_stored(ledger)


MANUAL = "period_start,period_end,category,amount,currency,initiative,business_unit,description"


def test_a_negative_manual_amount_needs_kind_credit(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        f"{MANUAL},kind\n"
        "2025-01-01,2025-02-01,data,4500.00,EUR,,marketing,Labelling batch 1,\n"
        "2025-01-01,2025-02-01,data,-500.00,EUR,,marketing,Vendor refund,\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_costs(path)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 2, column 'amount': is negative: a negative amount is a credit, and says "
        "so in the column kind (kind: credit) (found '-500.00')"
    ]
    _nothing_stored(ledger)
    path.write_text(path.read_text().replace("Vendor refund,", "Vendor refund,credit"))
    assert ledger.costs.ingest_costs(path).rows_added == 2
    assert ledger.session.db.one("SELECT sum(amount) FROM manual_costs") == (Decimal(4000),)


def test_a_manual_file_without_kind_refuses_negatives(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(f"{MANUAL}\n2025-01-01,2025-02-01,data,-1,USD,,marketing,Oops\n")
    with pytest.raises(IngestError, match="row 1, column 'amount': is negative"):
        ledger.costs.ingest_costs(path)
    _nothing_stored(ledger)


def test_cost_per_outcome_cannot_go_negative_through_counts(ledger: Ledger, tmp_path: Path) -> None:
    # The path to a negative cost per outcome was a negative outcome count: still refused.
    path = tmp_path / "outcomes.csv"
    path.write_text("initiative,period_start,period_end,count\nx,2025-01-01,2025-02-01,-40\n")
    with pytest.raises(IngestError, match="count"):
        ledger.outcomes.ingest_measures("outcomes", path)


def test_a_negative_reported_cost_in_a_span_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    base = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    path.write_text(_span(1, {**base, "gen_ai.usage.cost.amount": -0.5}) + "\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 1, column 'cost': {NEGATIVE_COST} (found '-0.5')"
    ]
    _nothing_stored(ledger)

"""Allocation rules, checked against totals worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import ValidationError

FOCUS_HEADER = ("BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,"
                "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,ProviderName,"
                "ServiceName,ServiceCategory,SubAccountId,Tags")  # fmt: skip


def focus_line(cost: str, tags: dict[str, str] | None, service: str = "Amazon Bedrock",
               month: str = "2025-04") -> str:  # fmt: skip
    tag_text = json.dumps(tags).replace('"', '""') if tags else ""
    return (
        f"acct,USD,{month}-01T00:00:00Z,{month}-02T00:00:00Z,{month}-03T00:00:00Z,Usage,"
        f'{cost},{cost},AWS,{service},AI and Machine Learning,sub-1,"{tag_text}"'
    )


def span(n: int, initiative: str, tokens: int, month: str = "2025-04") -> str:
    when = datetime.fromisoformat(f"{month}-10T12:00:00+00:00")
    return json.dumps({
        "traceId": f"{n:032d}", "spanId": f"{n:016d}",
        "startTimeUnixNano": str(int(when.astimezone(UTC).timestamp() * 1e9)),
        "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                       "gen_ai.usage.input_tokens": tokens, "gen_ai.usage.output_tokens": 0,
                       "gen_ai.usage.cost": "1.00", "valuegap.initiative": initiative},
    })  # fmt: skip


RULES = """
rules:
  - id: loc-qa-tagged
    match: {tag.initiative: loc-qa}
    initiative: loc-qa
  - id: docs-tagged
    match: {tag.initiative: doc-classifier}
    initiative: doc-classifier
  - id: shared-ai-platform
    match: {tag.application: ai-platform, provider: aws}
    split: {method: proportional, driver: tokens, among: [loc-qa, doc-classifier]}
  - id: storage-even
    match: {service: Amazon S3}
    split: {method: even, among: [loc-qa, doc-classifier, refund-agent]}
  - id: agent-fixed
    match: {tag.application: agents}
    split: {method: fixed, shares: {refund-agent: 0.6, loc-qa: 0.4}}
"""


@pytest.fixture
def allocated(ledger: Ledger, example_portfolio: Path, tmp_path: Path) -> Ledger:
    ledger.portfolio.apply_file(example_portfolio)
    bill = tmp_path / "bill.csv"
    bill.write_text("\n".join([
        FOCUS_HEADER,
        focus_line("1000.00", {"initiative": "loc-qa"}),
        focus_line("900.00", {"application": "ai-platform"}),
        focus_line("100.00", None, service="Amazon S3"),
        focus_line("250.00", {"application": "agents"}),
        focus_line("77.77", None, service="Amazon EC2"),          # untagged: unallocated
        focus_line("22.23", {"application": "search"}),           # no rule: unallocated
    ]) + "\n")  # fmt: skip
    spans = tmp_path / "spans.jsonl"
    # Directly allocated usage in April: loc-qa 3,000 tokens, doc-classifier 1,000 tokens.
    spans.write_text("\n".join([span(1, "loc-qa", 2_000), span(2, "loc-qa", 1_000),
                                span(3, "doc-classifier", 1_000)]) + "\n")  # fmt: skip
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    ledger.costs.ingest_focus([bill])
    ledger.costs.ingest_usage(spans, "otel")
    ledger.costs.apply_rules(rules)
    return ledger


def test_totals_per_initiative_match_the_hand_computation(allocated: Ledger) -> None:
    totals = {r.initiative: r.cost for r in allocated.costs.cost_report(["initiative"])}
    # By hand (USD). A split divides the amount at ten decimal places; the unit left over
    # goes to the largest remainder, ties to the first name (100 / 3 -> 33.3333333334 for
    # doc-classifier, 33.3333333333 for loc-qa and refund-agent).
    #  loc-qa         = 1000 (tagged) + 900 x 3000/4000 tokens + 33.3333333333 (even)
    #                   + 250 x 0.4 (fixed) + 2 x 1.00 (its own usage events)
    #                 = 1000 + 675 + 33.3333333333 + 100 + 2 = 1810.3333333333
    #  doc-classifier = 900 x 1000/4000 + 33.3333333334 + 1.00 = 259.3333333334
    #  refund-agent   = 33.3333333333 + 250 x 0.6 = 183.3333333333
    #  unallocated    = 77.77 (untagged EC2) + 22.23 (a tag no rule matches) = 100
    assert totals == {
        "loc-qa": Decimal("1810.3333333333"),
        "doc-classifier": Decimal("259.3333333334"),
        "refund-agent": Decimal("183.3333333333"),
        "(unallocated)": Decimal("100"),
    }
    assert sum(totals.values()) == Decimal("2353")  # nothing lost or made up: 2350 + 3 x 1.00


def test_business_units_follow_the_initiatives(allocated: Ledger) -> None:
    units = {r.business_unit: r.cost for r in allocated.costs.cost_report(["business_unit"])}
    assert units["(unallocated)"] == Decimal("100")
    assert units["marketing"] == Decimal("1810.3333333333")


def test_changing_the_rules_recomputes(allocated: Ledger, tmp_path: Path) -> None:
    rules = tmp_path / "fewer.yaml"
    rules.write_text("rules:\n  - {id: only, match: {service: Amazon S3}, "
                     "initiative: refund-agent}\n")  # fmt: skip
    allocated.costs.apply_rules(rules)
    totals = {r.initiative: r.cost for r in allocated.costs.cost_report(["initiative"])}
    assert totals == {"refund-agent": Decimal("100"), "(unallocated)": Decimal("2253")}


def test_invalid_rules_are_refused_whole(allocated: Ledger, tmp_path: Path) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("""
rules:
  - {id: a, match: {colour: blue}, initiative: loc-qa}
  - {id: b, match: {service: S3}, initiative: nobody}
  - {id: c, match: {service: S3}, split: {method: fixed, shares: {loc-qa: 0.5, refund-agent: 0.4}}}
  - {id: d, match: {service: S3}, split: {method: proportional, among: [loc-qa, refund-agent]}}
""")
    with pytest.raises(ValidationError) as refused:
        allocated.costs.apply_rules(rules)
    text = str(refused.value)
    assert "rules[0] (a).match: Value error, unknown match key 'colour'" in text or \
        "unknown match key 'colour'" in text  # fmt: skip
    assert "add up to 1" in text and "needs a driver" in text
    assert len(allocated.costs.allocation_rules().rules) == 5  # the rules in force are unchanged
    with pytest.raises(ValidationError, match="nobody"):
        rules.write_text("rules:\n  - {id: b, match: {service: S3}, initiative: nobody}\n")
        allocated.costs.apply_rules(rules)


def test_report_by_tag_and_period(allocated: Ledger) -> None:
    rows = allocated.costs.cost_report(["tag:application", "month"])
    assert {(r.tags["application"], r.month) for r in rows} >= {("ai-platform", "2025-04")}
    from datetime import date

    assert allocated.costs.cost_report(["initiative"], start=date(2025, 5, 1)) == []

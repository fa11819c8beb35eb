"""Invariants of allocation, for random ledgers: parts add up to their lines, units plus
unallocated to the total, nothing turns negative unless a credit did, coverage stays in [0, 1]."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.costs.allocation import USAGE_SOURCES, AllocationInputs, allocate, report
from valuegap.costs.rules import Rule, Split
from valuegap.costs.split import PLACES, divide
from valuegap.model.providers import TOKEN_SERVICES
from valuegap.outcomes.finance import coverage

INITIATIVES = ["a", "b", "c"]
UNITS = {"a": "north", "b": "north", "c": "south"}
MONTHS = [date(2026, 1, 1), date(2026, 2, 1)]

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
weights = st.dictionaries(st.sampled_from("pqrstu"), st.integers(0, 10**6), min_size=1).filter(
    lambda w: sum(w.values()) > 0
)


@given(
    amount=st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=10),
    weights=weights,
)
def test_a_division_adds_up_to_the_whole_and_each_part_is_its_share(
    amount: Decimal, weights: dict[str, int]
) -> None:
    parts = divide(amount, weights)
    assert sum(parts.values()) == amount
    total = sum(weights.values())
    for name, part in parts.items():
        assert abs(part - amount * weights[name] / total) < PLACES
        assert part * amount >= 0  # the sign of the whole, or zero


# A summed line: (source, provider, service, tag, month, amount); a credit is a FOCUS line
# with a negative amount.
lines = st.lists(
    st.tuples(
        st.sampled_from(["focus", "focus", "otel", "litellm", "manual"]),
        st.sampled_from(
            [
                ("OpenAI", "OpenAI API"),
                ("AWS", "Amazon Bedrock"),
                ("AWS", "Amazon S3"),
                ("openai", None),
                ("anthropic", None),
            ]
        ),
        st.sampled_from([None, "a", "b", "c", "shared", "unit"]),
        st.sampled_from(MONTHS),
        amounts,
        st.booleans(),  # a credit (FOCUS lines only)
    ),
    min_size=1,
    max_size=25,
)
RULES = [
    Rule(id="to-a", match={"tag.initiative": "a"}, initiative="a"),
    Rule(id="to-b", match={"tag.initiative": "b"}, initiative="b"),
    Rule(id="to-c", match={"tag.initiative": "c"}, initiative="c"),
    Rule(id="to-unit", match={"tag.initiative": "unit"}, business_unit="south"),
]


def _summed(drawn: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    rows = []
    for source, (provider, service), tag, month, amount, credit in drawn:
        usage = source in USAGE_SOURCES
        if usage:
            provider, service = (
                "openai" if provider in ("OpenAI", "openai") else "anthropic",
                None,
            )
        elif service is None:  # a FOCUS line of a usage provider's name: S3 instead
            provider, service = "AWS", "Amazon S3"
        manual = source == "manual"
        rows.append(
            {
                "month": month,
                "category": "infrastructure",
                "currency": "USD",
                "source": source,
                "initiative": tag if manual and tag in INITIATIVES else None,
                "business_unit": "south" if manual and tag not in INITIATIVES else None,
                "provider": None if manual else provider,
                "service": None if manual else service,
                "tag:initiative": None if manual else tag,
                "amount": -amount if credit and source == "focus" else amount,
                "tokens": 1000 if usage else 0,
                "requests": 1 if usage else 0,
            }
        )
    return rows


@settings(max_examples=300, deadline=None)
@given(drawn=lines, method=st.sampled_from(["even", "fixed", "cost", "usage_cost", "tokens"]))
def test_allocated_parts_add_up_and_never_turn_negative(
    drawn: list[tuple[Any, ...]], method: str
) -> None:
    split = (
        Split(method="even", among=INITIATIVES)
        if method == "even"
        else Split(method="fixed", shares={"a": Decimal("0.25"), "c": Decimal("0.75")})
        if method == "fixed"
        else Split(method="proportional", driver=method, among=INITIATIVES)
    )
    rules = [*RULES, Rule(id="shared", match={"tag.initiative": "shared"}, split=split)]
    summed = _summed(drawn)
    inputs = AllocationInputs(rules, {}, "USD", UNITS, TOKEN_SERVICES)
    parts = allocate(summed, inputs)
    by_line: dict[int, Decimal] = defaultdict(Decimal)
    for part in parts:
        by_line[part.line] += part.amount
        if part.amount < 0:
            assert summed[part.line]["amount"] < 0  # only a credit's parts are negative
    invoiced = {
        (r["provider"], r["month"])
        for r in summed
        if r["source"] == "focus" and r["service"] == "OpenAI API"
    }
    for n, row in enumerate(summed):
        covered = row["source"] in USAGE_SOURCES and (
            row["provider"] == "openai" and ("OpenAI", row["month"]) in invoiced
        )
        assert by_line[n] == (0 if covered else row["amount"]), row  # a line's parts: the line
    [total] = report(parts, [])
    units = report(parts, ["business_unit"])
    assert sum(r["cost"] for r in units) == total["cost"]
    assert sum(r["cost"] for r in report(parts, ["initiative"])) == total["cost"]
    assert {r["business_unit"] for r in units} <= {"north", "south", "(unallocated)"}


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "(unallocated)", "(unit overhead)"]),
        st.decimals(min_value=-1000, max_value=1000, places=2),
    ),
    st.sets(st.sampled_from(["a", "b", "c"])),
)
def test_coverage_stays_between_zero_and_one(
    costs: dict[str, Decimal], validated: set[str]
) -> None:
    found = coverage(costs, validated)
    assert found is None or 0 <= found <= 1
    assert (found is None) == (sum(max(c, Decimal(0)) for c in costs.values()) == 0)


FOCUS = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ServiceProviderName,ServiceName,ServiceCategory,"
    "Tags"
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=lines)
def test_a_random_ledger_ties_to_its_invoices(
    tmp_path_factory: Any, example_portfolio: Path, drawn: list[tuple[Any, ...]]
) -> None:
    folder = tmp_path_factory.mktemp("ledger")
    focus, usage, manual = (
        [FOCUS],
        ["event_id,timestamp,provider,model,cost,initiative"],
        ["period_start,period_end,category,amount,currency,initiative,business_unit,description"],
    )
    for n, (source, (provider, service), tag, month, amount, credit) in enumerate(drawn):
        day = f"{month:%Y-%m}-0{1 + n % 9}"
        if source == "focus":
            provider, service = (provider, service) if service else ("AWS", "Amazon S3")
            cost = -amount if credit else amount
            tags = f'"{{""initiative"": ""{tag}""}}"' if tag else ""
            category = "Credit" if credit else "Usage"
            focus.append(
                f"acct,USD,{month},{day},{day},{category},{cost},{cost},{provider},"
                f"{service},AI and Machine Learning,{tags}"
            )
        elif source == "manual":
            manual.append(
                f"{month},{MONTHS[1] if month == MONTHS[0] else '2026-03-01'},data,"
                f"{amount},USD,{'loc-qa' if tag == 'a' else ''},"
                f"{'' if tag == 'a' else 'south'},x"
            )
        else:
            vendor = "openai" if provider in ("OpenAI", "openai") else "anthropic"
            initiative = "loc-qa" if tag == "a" else ""
            usage.append(f"u{n},{day}T10:00:00Z,{vendor},gpt-4o,{amount},{initiative}")
    db = folder / "ledger.duckdb"
    with Ledger.init(db, actor="alice") as ledger:
        ledger.portfolio.apply_file(example_portfolio)
        for name, rows, load in (
            ("f.csv", focus, lambda p: ledger.costs.ingest_focus([p])),
            ("u.csv", usage, lambda p: ledger.costs.ingest_usage(p, "csv")),
            ("m.csv", manual, ledger.costs.ingest_costs),
        ):
            if len(rows) > 1:
                (folder / name).write_text("\n".join(rows) + "\n")
                load(folder / name)
        rules = folder / "rules.yaml"
        rules.write_text("rules:\n  - {id: qa, match: {tag.initiative: a}, initiative: loc-qa}\n")
        ledger.costs.apply_rules(rules)
        by_unit = ledger.costs.cost_report(["business_unit"])
        by_initiative = ledger.costs.cost_report(["initiative"])
        portfolio = ledger.outcomes.portfolio_report()
    con = duckdb.connect(str(db), read_only=True)
    # Independently: every FOCUS line, every manual cost, and the usage of a provider and
    # month that no OpenAI invoice line covers (Bedrock usage has none in these ledgers).
    expected = con.execute(
        """SELECT (SELECT coalesce(sum(effective_cost), 0) FROM focus_lines)
            + (SELECT coalesce(sum(amount), 0) FROM manual_costs)
            + (SELECT coalesce(sum(reported_cost), 0) FROM usage_events u WHERE NOT EXISTS (
                SELECT 1 FROM focus_lines f WHERE f.provider = 'OpenAI' AND u.provider = 'openai'
                  AND date_trunc('month', f.charge_period_start) = date_trunc('month', u.ts)))"""
    ).fetchone()[0]
    con.close()
    assert sum(r.cost for r in by_unit) == expected
    assert sum(r.cost for r in by_initiative) == expected
    assert portfolio.attribution_coverage is None or 0 <= portfolio.attribution_coverage <= 1
    negative = [r for r in by_initiative if r.cost < 0]
    assert not negative or any(credit for *_, credit in drawn)

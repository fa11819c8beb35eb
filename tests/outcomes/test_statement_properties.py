"""Invariants of statements, for random ledgers: a unit's statement totals its rows of the
cost report; its lines add up to it; what each split rule split adds up over the units; a
closed month plus the adjustments booked after it is the month's cost now."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.outcomes.periods import Window

from ..conftest import SteppingClock

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
FOCUS = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory,Tags"
)
RULES = """
rules:
  - {id: qa, match: {tag.initiative: a}, initiative: loc-qa}
  - {id: docs, match: {tag.initiative: b}, initiative: doc-classifier}
  - {id: agent, match: {tag.initiative: c}, initiative: refund-agent}
  - {id: fin, match: {tag.initiative: unit}, business_unit: finance}
  - id: shared
    match: {tag.initiative: shared}
    split: {method: %s, among: [loc-qa, doc-classifier, refund-agent]}
"""
SPLITS = ["even", "proportional, driver: cost", "proportional, driver: usage_cost"]

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2)
# A line: (source, tag, month, amount, a credit (FOCUS only)).
lines = st.lists(
    st.tuples(
        st.sampled_from(["focus", "focus", "usage", "manual"]),
        st.sampled_from([None, "a", "b", "c", "shared", "unit"]),
        st.sampled_from(MONTHS),
        amounts,
        st.booleans(),
    ),
    min_size=1,
    max_size=20,
)


def _files(folder: Path, drawn: list[tuple[Any, ...]], name: str) -> dict[str, Path]:
    focus, usage = [FOCUS], ["event_id,timestamp,provider,model,cost,initiative"]
    manual = [
        "period_start,period_end,category,amount,currency,initiative,business_unit,description"
    ]
    for n, (source, tag, month, amount, credit) in enumerate(drawn):
        day = f"{month:%Y-%m}-0{1 + n % 9}"
        if source == "focus":
            cost, kind = (-amount, "Credit") if credit else (amount, "Usage")
            tags = f'"{{""initiative"": ""{tag}""}}"' if tag else ""
            focus.append(
                f"acct,USD,{month},{day},{day},{kind},{cost},{cost},AWS,Amazon S3,AI,{tags}"
            )
        elif source == "manual":
            initiative = "loc-qa" if tag == "a" else ""
            end = MONTHS[MONTHS.index(month) + 1] if month != MONTHS[-1] else date(2026, 4, 1)
            unit = "" if initiative else "finance"
            manual.append(f"{month},{end},data,{amount},USD,{initiative},{unit},x")
        else:
            initiative = {"a": "loc-qa", "b": "doc-classifier"}.get(tag or "", "")
            usage.append(f"{name}{n},{day}T10:00:00Z,anthropic,claude,{amount},{initiative}")
    found = {}
    for kind, rows in (("focus", focus), ("usage", usage), ("costs", manual)):
        if len(rows) > 1:
            found[kind] = folder / f"{name}-{kind}.csv"
            found[kind].write_text("\n".join(rows) + "\n")
    return found


def _ingest(ledger: Ledger, files: dict[str, Path]) -> None:
    if "focus" in files:
        ledger.costs.ingest_focus([files["focus"]])
    if "usage" in files:
        ledger.costs.ingest_usage(files["usage"], "csv")
    if "costs" in files:
        ledger.costs.ingest_costs(files["costs"])


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=lines, later=lines, split=st.sampled_from(SPLITS))
def test_statements_total_the_cost_report_and_closed_months_plus_adjustments_are_now(
    tmp_path_factory: Any, example_portfolio: Path, drawn: Any, later: Any, split: str
) -> None:
    folder = tmp_path_factory.mktemp("ledger")
    clock = SteppingClock(datetime(2026, 4, 2, 9, 0))
    with Ledger.init(folder / "l.duckdb", actor="alice", clock=clock) as ledger:
        ledger.portfolio.apply_file(example_portfolio)
        _ingest(ledger, _files(folder, drawn, "first"))
        (folder / "rules.yaml").write_text(RULES % split)
        ledger.costs.apply_rules(folder / "rules.yaml")
        statements = ledger.statements
        units = sorted({r.business_unit or "" for r in ledger.costs.cost_report(["business_unit"])})
        quarter = Window(MONTHS[0], date(2026, 4, 1))
        for window in [quarter, *(Window(m, m.replace(month=m.month + 1)) for m in MONTHS)]:
            rows = ledger.costs.cost_report(["business_unit"], window.start, window.end)
            shared: dict[str, Decimal] = {}
            for unit in units:
                statement = statements.statement(unit, window)
                row = next((r.cost for r in rows if r.business_unit == unit), Decimal(0))
                assert statement.cost == row
                assert sum(ln.cost for ln in statement.lines) == statement.cost
                assert statement.invoiced + statement.estimated + statement.manual == row
                for s in statement.shared:
                    shared[s.rule] = shared.get(s.rule, Decimal(0)) + s.cost
                    total = s.split_total
            if shared:
                assert shared["shared"] == total  # every unit's share adds up to the whole
        # Close January and February for every unit, add more lines, and the next open month
        # books each closed month's change: closed + adjustments = the month's cost now.
        known = [unit for unit in units if unit != "(unallocated)"]
        closed = {(unit, m): statements.close_month(unit, m) for unit in known for m in MONTHS[:2]}
        _ingest(ledger, _files(folder, later, "later"))
        for unit in known:
            march = statements.statement(unit, Window(MONTHS[2], date(2026, 4, 1)))
            for m in MONTHS[:2]:
                now = ledger.costs.cost_report(["business_unit"], m, m.replace(month=m.month + 1))
                cost = next((r.cost for r in now if r.business_unit == unit), Decimal(0))
                booked = sum(
                    (a.difference for a in march.adjustments if a.corrects == f"{m:%Y-%m}"),
                    Decimal(0),
                )
                assert closed[(unit, m)].cost + booked == cost
                assert (
                    statements.statement(unit, Window(m, m.replace(month=m.month + 1)))
                    == (closed[(unit, m)])
                )

"""Exact splits, splits by every source's cost, and one meaning of unallocated."""

from __future__ import annotations

from pathlib import Path

from valuegap import Ledger

from .test_allocation import FOCUS_HEADER, focus_line


def _ledger(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, lines: list[str], rules: str
) -> Ledger:
    ledger.portfolio.apply_file(example_portfolio)
    bill = tmp_path / "bill.csv"
    bill.write_text("\n".join([FOCUS_HEADER, *lines]) + "\n")
    ledger.costs.ingest_focus([bill])
    path = tmp_path / "rules.yaml"
    path.write_text(rules)
    ledger.costs.apply_rules(path)
    return ledger


def test_an_even_split_of_90_among_three_is_30_each(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    _ledger(
        ledger,
        example_portfolio,
        tmp_path,
        [focus_line("90.00", None, service="Amazon S3")],
        "rules:\n  - {id: s3, match: {service: Amazon S3}, split: {method: even, "
        "among: [loc-qa, doc-classifier, refund-agent]}}\n",
    )
    totals = {r.initiative: r.cost for r in ledger.costs.cost_report(["initiative"])}
    assert totals == {"loc-qa": 30, "doc-classifier": 30, "refund-agent": 30}
    assert all(str(v) == "30" for v in totals.values())


def test_a_split_by_cost_follows_the_initiatives_tagged_cloud_cost(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    _ledger(
        ledger,
        example_portfolio,
        tmp_path,
        [
            focus_line("300.00", {"initiative": "loc-qa"}, service="Amazon SageMaker"),
            focus_line("100.00", {"initiative": "doc-classifier"}, service="Amazon SageMaker"),
            focus_line("80.00", {"application": "shared"}, service="Amazon EKS"),
        ],
        """
rules:
  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}
  - {id: docs, match: {tag.initiative: doc-classifier}, initiative: doc-classifier}
  - id: shared
    match: {tag.application: shared}
    split: {method: proportional, driver: cost, among: [loc-qa, doc-classifier]}
""",
    )
    totals = {r.initiative: r.cost for r in ledger.costs.cost_report(["initiative"])}
    # 80 split 300:100 by their directly allocated cost: 60 and 20.
    assert totals == {"loc-qa": 360, "doc-classifier": 120}


def test_a_units_own_cost_is_that_units_and_not_unallocated(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    _ledger(
        ledger,
        example_portfolio,
        tmp_path,
        [
            focus_line("1000.00", {"initiative": "loc-qa"}),
            focus_line("50.00", None, service="Amazon EC2"),  # nothing matches: unallocated
            focus_line("-100.00", None, service="Amazon EC2").replace("Usage", "Credit"),
            focus_line("70.00", {"team": "finance-ops"}, service="Amazon QuickSight"),
        ],
        """
rules:
  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}
  - {id: fin-ops, match: {tag.team: finance-ops}, business_unit: finance}
""",
    )
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,"
        "description\n2025-04-01,2025-05-01,operations,27000,USD,,operations,"
        "Centre of excellence\n"
    )
    ledger.costs.ingest_costs(costs)
    by_initiative = {(r.initiative): r.cost for r in ledger.costs.cost_report(["initiative"])}
    assert by_initiative == {"loc-qa": 1000, "(unit overhead)": 27070, "(unallocated)": -50}
    units = {r.business_unit: r.cost for r in ledger.costs.cost_report(["business_unit"])}
    assert units == {"marketing": 1000, "operations": 27000, "finance": 70, "(unallocated)": -50}
    total = sum(units.values())
    assert total == 28020
    report = ledger.outcomes.portfolio_report()
    assert (report.total_cost, report.unallocated_cost, report.unit_overhead_cost) == (
        28020,
        -50,
        27070,
    )
    # No initiative is validated; the credit makes unallocated negative, which counts as zero
    # in coverage: coverage stays in [0, 1].
    assert report.attribution_coverage == 0.0

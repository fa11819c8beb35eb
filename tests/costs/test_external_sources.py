"""External sources on the embedded engine: FOCUS exports and usage logs read where they live,
with the same totals as the same files ingested, read again only where they changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError, ValidationError

from ..conftest import SteppingClock
from .lake import RULES, USAGE_MAPPING, focus_month, lake


def _prepared(ledger: Ledger, example_portfolio: Path, tmp_path: Path) -> Ledger:
    ledger.portfolio.apply_file(example_portfolio)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    ledger.costs.apply_rules(rules)
    return ledger


def _focus_synced(ledger: Ledger, example_portfolio: Path, tmp_path: Path, lake: Path) -> Ledger:
    """``_prepared``, with the lake's FOCUS exports added as a source and synced."""
    prepared = _prepared(ledger, example_portfolio, tmp_path)
    prepared.costs.sources.add("focus", "aws", str(lake / "focus"))
    prepared.costs.sources.sync()
    return prepared


def _report(ledger: Ledger, by: list[str]) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(str(getattr(line, k)) for k in by), line.cost, line.usage_cost)
        for line in ledger.costs.cost_report(by)
    )


@pytest.fixture
def lake_root(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    lake(root, "2025-01", 3)
    return root


def test_a_source_reports_as_the_same_files_ingested(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, lake_root: Path
) -> None:
    external = _prepared(ledger, example_portfolio, tmp_path)
    external.costs.sources.add("focus", "aws", str(lake_root / "focus"))
    external.costs.sources.add("usage", "gateway", str(lake_root / "usage"), mapping=USAGE_MAPPING)
    synced = external.costs.sources.sync()
    assert [len(s.read) for s in synced] == [3, 3]
    assert [s.rows for s in synced] == [120, 900]

    second = Ledger.init(tmp_path / "ingested.duckdb", actor="alice", clock=SteppingClock())
    ingested = _prepared(second, example_portfolio, tmp_path)
    ingested.costs.ingest_focus(sorted((lake_root / "focus").rglob("*.parquet")))
    for log in sorted((lake_root / "usage").rglob("*.parquet")):
        ingested.costs.ingest_usage(log, "csv", USAGE_MAPPING)

    for by in (
        ["initiative", "month"],
        ["provider", "model", "source", "basis"],
        ["initiative", "business_unit", "category"],
    ):
        expected = _report(ingested, by)
        assert len(expected) >= 3
        assert _report(external, by) == expected


def test_the_invoiced_total_is_the_exports_own(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    totals = lake(tmp_path / "lake", "2025-01", 2)
    ledger.costs.sources.add("focus", "aws", str(tmp_path / "lake" / "focus"))
    ledger.costs.sources.sync()
    by_basis = {line.basis: line.cost for line in ledger.costs.cost_report(["basis"])}
    # Added up in the generator, line by line: 40 lines a month, each EffectiveCost.
    assert by_basis == {"invoiced": sum(totals.values())}


def test_a_new_billing_period_is_the_only_one_read(ledger: Ledger, lake_root: Path) -> None:
    ledger.costs.sources.add("focus", "aws", str(lake_root / "focus"))
    first = ledger.costs.sources.sync()[0]
    assert (len(first.read), first.kept) == (3, 0)
    again = ledger.costs.sources.sync()[0]
    assert (again.read, again.kept, again.rows) == ((), 3, 0)
    april = focus_month(lake_root / "focus", "2025-04")
    latest = ledger.costs.sources.sync()[0]
    assert [Path(p).parent.name for p in latest.read] == ["billing_period=2025-04"]
    assert (latest.kept, latest.rows) == (3, 40)
    partitions = ledger.costs.sources.partitions("aws")
    runs = sorted({p.run for p in partitions.values()})
    assert [p.run for n, p in sorted(partitions.items())][-1] == runs[-1]
    assert sum(p.run == runs[-1] for p in partitions.values()) == 1
    april_cost = {str(line.month)[:7]: line.cost for line in ledger.costs.cost_report(["month"])}
    assert april_cost["2025-04"] == april


def test_a_changed_or_removed_partition_is_read_again(ledger: Ledger, lake_root: Path) -> None:
    ledger.costs.sources.add("focus", "aws", str(lake_root / "focus"))
    ledger.costs.sources.sync()
    replaced = focus_month(lake_root / "focus", "2025-02", lines=10)  # a restated period
    synced = ledger.costs.sources.sync()[0]
    assert [Path(p).parent.name for p in synced.read] == ["billing_period=2025-02"]
    by_month = {str(line.month)[:7]: line.cost for line in ledger.costs.cost_report(["month"])}
    assert by_month["2025-02"] == replaced
    for file in (lake_root / "focus" / "billing_period=2025-03").iterdir():
        file.unlink()
    gone = ledger.costs.sources.sync()[0]
    assert len(gone.removed) == 1
    months = {str(line.month)[:7] for line in ledger.costs.cost_report(["month"])}
    assert "2025-03" not in months


def test_a_rules_change_reads_the_partitions_again(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, lake_root: Path
) -> None:
    prepared = _focus_synced(ledger, example_portfolio, tmp_path, lake_root)
    rules = tmp_path / "more-rules.yaml"
    rules.write_text(RULES + "  - id: by-team\n    match: {tag.team: ml}\n    initiative: loc-qa\n")
    prepared.costs.apply_rules(rules)
    assert len(prepared.costs.sources.sync()[0].read) == 3  # the sums now keep tag.team


def test_a_bad_value_is_named_with_its_file_and_row(ledger: Ledger, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "lake"
    lake(root, "2025-01", 1)
    bad = pq.read_table(next((root / "focus").rglob("*.parquet")))
    costs = bad.column("EffectiveCost").to_pylist()
    costs[6] = Decimal("-5")
    bad = bad.set_column(
        bad.schema.get_field_index("EffectiveCost"),
        "EffectiveCost",
        pa.array(costs, pa.decimal128(20, 10)),
    )
    target = root / "focus" / "billing_period=2025-02"
    target.mkdir()
    pq.write_table(bad, target / "part-0.parquet")
    ledger.costs.sources.add("focus", "aws", str(root / "focus"))
    with pytest.raises(IngestError) as raised:
        ledger.costs.sources.sync()
    [problem] = raised.value.problems
    assert (Path(problem.file or "").parent.name, problem.row, problem.column) == (
        "billing_period=2025-02",
        7,
        "EffectiveCost",
    )
    assert "negative" in problem.message
    assert ledger.costs.sources.partitions("aws") == {}  # nothing was kept


def test_a_source_that_is_not_focus_is_refused_with_what_it_lacks(
    ledger: Ledger, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    lake(root, "2025-01", 1)
    with pytest.raises(ValidationError) as raised:
        ledger.costs.sources.add("focus", "logs", str(root / "usage"))
    lacking = {p.where.split("column ")[-1] for p in raised.value.problems}
    assert "'ChargePeriodStart'" in lacking and "'BilledCost'" in lacking
    assert ledger.costs.sources.sources() == []


def test_removing_a_source_removes_its_cost(ledger: Ledger, lake_root: Path) -> None:
    ledger.costs.sources.add("focus", "aws", str(lake_root / "focus"))
    ledger.costs.sources.sync()
    assert ledger.costs.cost_report(["month"])
    ledger.costs.sources.remove("aws")
    assert ledger.costs.cost_report(["month"]) == []


def test_daily_spend_reads_a_sources_monthly_sums(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, lake_root: Path
) -> None:
    """A source keeps monthly sums, no days: forecasts and anomalies (which spread cost over
    days) count its cost as a month's, as they do a manual cost, instead of failing."""
    external = _focus_synced(ledger, example_portfolio, tmp_path, lake_root)
    (month, march_cost, _) = _report(external, ["month"])[-1]
    assert month == ("2025-03",)
    forecast = external.costs.spend.forecast(month=date(2025, 3, 1), as_of=date(2025, 3, 20))
    assert forecast.total.spent + forecast.total.manual == march_cost
    external.costs.spend.anomalies(since=date(2025, 3, 1), until=date(2025, 3, 8))


def test_a_report_by_a_tag_the_sources_did_not_keep_says_what_to_do(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, lake_root: Path
) -> None:
    external = _focus_synced(ledger, example_portfolio, tmp_path, lake_root)
    with pytest.raises(ValidationError, match="tag:colour") as refused:
        external.costs.cost_report(["tag:colour"])
    assert "rule" in str(refused.value)

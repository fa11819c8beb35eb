from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run

EXAMPLES = Path(__file__).parent.parent.parent / "examples"


def test_measures_and_value_reports_from_the_command_line(run: Run, tmp_path: Path) -> None:
    assert run("apply", str(EXAMPLES / "portfolio.yaml")).exit_code == 0
    outcomes = tmp_path / "outcomes.csv"
    header = "initiative,metric,period_start,period_end,count,source\n"
    outcomes.write_text(
        header + "refund-agent,refunds-resolved,2026-01-01,2026-02-01,1200,Zendesk\n"
    )
    loaded = run("ingest", "outcomes", str(outcomes), "--format", "json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)[0]["rows_added"] == 1

    portfolio = run("report", "portfolio", "--period", "2026-01", "--format", "json")
    assert portfolio.exit_code == 0, portfolio.output
    report = json.loads(portfolio.output)
    assert report["period"] == {"from": "2026-01-01", "to": "2026-02-01"}
    assert "attribution_coverage" in report
    refund = next(r for r in report["initiatives"] if r["id"] == "refund-agent")
    assert refund["value"] == "5040"  # 1,200 tickets x 4.20 USD

    single = run("report", "initiative", "refund-agent", "--from", "2026-01", "--to", "2026-02",
                 "--format", "json")  # fmt: skip
    assert single.exit_code == 0, single.output
    metric = json.loads(single.output)["metrics"][0]
    assert metric["method"] == "direct" and metric["value"] == "5040"

    table = run("report", "scoreboard", "--period", "2026-Q1")
    assert table.exit_code == 0, table.output
    assert "not rewarded" in " ".join(table.output.split())  # the table may wrap it
    csv = run("report", "portfolio", "--format", "csv")
    assert csv.output.splitlines()[0].startswith("id,name,business_unit,stage,state")


def test_a_bad_observation_file_exits_1_naming_the_row(run: Run, tmp_path: Path) -> None:
    assert run("apply", str(EXAMPLES / "portfolio.yaml")).exit_code == 0
    bad = tmp_path / "obs.csv"
    bad.write_text("metric,period_start,period_end,group,phase,n,mean,sd\n"
                   "doc-review-hours,2026-01-01,2026-04-01,all,during,13,8,2\n")  # fmt: skip
    result = run("ingest", "observations", str(bad))
    assert result.exit_code == 1
    assert "row 1, column 'phase': must be one of before, after (found 'during')" in result.output
    assert run("report", "portfolio", "--period", "2026-13").exit_code == 2  # a usage error


def test_a_viewer_may_not_load_outcomes(run: Run, tmp_path: Path) -> None:
    assert run("user", "add", "vera", "--role", "viewer").exit_code == 0
    path = tmp_path / "c.csv"
    path.write_text("initiative,period_start,period_end,redeployed,cost_reduced,not_captured\n")
    result = run("ingest", "capacity", str(path), actor="vera")
    assert result.exit_code == 1
    assert "may not ingest measured outcomes" in result.output

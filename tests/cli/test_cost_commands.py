from __future__ import annotations

import json
from pathlib import Path

from .conftest import Run

DATA = Path(__file__).parent.parent / "data"


def test_ingest_rules_and_report_from_the_command_line(
    run: Run, example_portfolio: Path, tmp_path: Path
) -> None:
    run("apply", str(example_portfolio))
    ingested = run("ingest", "focus", str(DATA / "focus-1.2-minimal.csv"), "--format", "json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)[0]["rows_added"] == 5
    usage = run("ingest", "usage", str(DATA / "usage-generic.csv"), "--format", "csv",
                "--map", "timestamp=ts,model=model_name,provider=vendor,input_tokens=in_tok,"
                "output_tokens=out_tok,tag.initiative=squad")  # fmt: skip
    assert usage.exit_code == 0, usage.output
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}\n")
    assert run("rules", "apply", str(rules)).exit_code == 0
    report = run("report", "costs", "--by", "initiative,category", "--format", "json")
    assert report.exit_code == 0, report.output
    rows = {r["initiative"]: r for r in json.loads(report.stdout)}
    # loc-qa: 1100.25 tagged GPU hours - 50.00 credit; the rest is unallocated.
    assert rows["loc-qa"] == {"initiative": "loc-qa", "category": "infrastructure",
                              "cost": "1050.25", "estimated": "0", "usage_cost": "0",
                              "currency": "USD"}  # fmt: skip
    assert rows["(unallocated)"]["cost"] == "357.4575"  # 300 + 45.10 + 12.34 + 0.0175 usage


def test_bad_rows_exit_1_with_file_row_column(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("valid_from,from_currency,to_currency,rate\n2025-01-01,EUR,USD,-1\n")
    result = run("ingest", "rates", str(path))
    assert result.exit_code == 1
    assert f"{path}, row 1, column 'rate': is not a positive decimal number" in result.stderr


def test_unknown_report_dimension(run: Run) -> None:
    result = run("report", "costs", "--by", "colour")
    assert result.exit_code == 1 and "by: must be one of" in result.stderr

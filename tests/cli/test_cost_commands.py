from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from valuegap.cli import app

from .conftest import Run

DATA = Path(__file__).parent.parent / "data"


def test_ingest_rules_and_report_from_the_command_line(
    run: Run, example_portfolio: Path, tmp_path: Path
) -> None:
    run("apply", str(example_portfolio))
    ingested = run("ingest", "focus", str(DATA / "focus-1.2-minimal.csv"), "--format", "json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)[0]["rows_added"] == 5
    usage = run("ingest", "usage", str(DATA / "usage-generic.csv"), "--input-format", "csv",
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
    # CSV has the same columns: the dimensions summed by, in the order asked, then the amounts.
    by_tag = run("report", "costs", "--by", "tag:team,source", "--format", "csv")
    assert by_tag.stdout.splitlines()[:2] == [
        "tag:team,source,cost,estimated,usage_cost,currency",
        "ml,focus,1100.25,0,0,USD",
    ]


def test_usage_is_read_in_the_format_its_content_shows(run: Run) -> None:
    """``--format`` is the output's, as everywhere; the input's is told from the file, or
    given with ``--input-format``."""
    spend = str(DATA / "litellm-spend.csv")
    for ingested in (
        run("ingest", "usage", spend, "--format", "json"),
        run("ingest", "usage", str(DATA / "otel-genai.jsonl"), "-f", "json"),
    ):
        assert ingested.exit_code == 0, ingested.output
        assert json.loads(ingested.stdout)[0]["rows_added"] > 0
    removed = run("remove", "usage", spend, "--reason", "a test", "--format", "json")
    assert removed.exit_code == 0, removed.output
    assert len(json.loads(removed.stdout)) == 2
    stated = run("ingest", "usage", spend, "--input-format", "litellm", "--format", "csv")
    assert stated.exit_code == 0 and stated.stdout.startswith("file,rows_read")
    assert run("ingest", "usage", spend, "--output-format", "json").exit_code == 2


def test_a_usage_file_of_unknown_format_says_what_to_pass(run: Run) -> None:
    generic = DATA / "usage-generic.csv"  # its columns need a mapping
    for command in ("ingest", "usage"), ("remove", "usage", "--reason", "a test"):
        refused = run(*command, str(generic))
        assert refused.exit_code == 1
        assert f"The format of {generic} cannot be told from its content." in refused.stderr
        assert "  - --input-format: it is not JSON" in refused.stderr
        assert "with --map" in refused.stderr


def test_bad_rows_exit_1_with_file_row_column(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("valid_from,from_currency,to_currency,rate\n2025-01-01,EUR,USD,-1\n")
    result = run("ingest", "rates", str(path))
    assert result.exit_code == 1
    assert f"{path}, row 1, column 'rate': is not a positive decimal number" in result.stderr


def test_unknown_report_dimension(run: Run) -> None:
    result = run("report", "costs", "--by", "colour")
    assert result.exit_code == 1 and "by: must be one of" in result.stderr


def test_after_a_change_of_cost_column_reports_follow_it_and_rebuild_stores_it(
    run: Run, db_path: Path
) -> None:
    from valuegap import Ledger
    from valuegap.costs.aggregates import fingerprint
    from valuegap.settings import load_settings
    from valuegap.store.aggregates import AggregateStore

    assert run("ingest", "focus", str(DATA / "focus-1.2-minimal.csv")).exit_code == 0
    billed = {"VALUEGAP_COST_COLUMN": "BilledCost"}

    def total(env: dict[str, str] | None = None) -> str:
        result = CliRunner().invoke(
            app,
            [
                "report",
                "costs",
                "--by",
                "source",
                "--format",
                "json",
                "--db",
                str(db_path),
                "--as",
                "alice",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        [row] = json.loads(result.stdout)
        return str(row["cost"])

    # EffectiveCost: 1100.25 + 300 + 45.10 - 50 (credit) + 12.34 (tax); BilledCost has 1200.50
    # for the first line.
    assert total() == "1407.69"
    assert total(billed) == "1507.94"  # from the facts: the aggregates hold EffectiveCost
    rebuilt = CliRunner().invoke(
        app, ["admin", "rebuild", "--db", str(db_path), "--as", "alice"], env=billed
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Cost aggregates rebuilt" in rebuilt.stdout
    settings = load_settings({"db": str(db_path), "cost_column": "BilledCost"})
    with Ledger.open(db_path, actor="alice", settings=settings) as ledger:
        assert AggregateStore(ledger.session.db).built_for() == fingerprint(settings)
    assert total(billed) == "1507.94"
    assert total() == "1407.69"

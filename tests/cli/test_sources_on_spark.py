"""`report costs` and `report portfolio` with `--engine spark`, over Parquet folders read by a
Spark Connect server, give what the same files give ingested into the ledger; a new billing
period is the only partition read the next time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app

from ..costs.lake import RULES, USAGE_MAPPING, focus_month, lake, usage_month

pytestmark = pytest.mark.slow
MAPPING = ",".join(f"{field}={column}" for field, column in USAGE_MAPPING.items())


class Cli:
    def __init__(self, db: Path) -> None:
        self.db, self.runner = db, CliRunner()

    def __call__(self, *args: str) -> str:
        result = self.runner.invoke(app, [*args, "--db", str(self.db), "--as", "alice"])
        assert result.exit_code == 0, result.output
        return result.stdout

    def report(self, *args: str) -> Any:
        return json.loads(self("report", *args, "--format", "json"))


def _ledger(db: Path, example_portfolio: Path, tmp_path: Path) -> Cli:
    cli = Cli(db)
    cli("init")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    cli("apply", str(example_portfolio))
    cli("rules", "apply", str(rules))
    return cli


def test_spark_reports_what_the_ingested_files_report(
    spark_remote: str, example_portfolio: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("VALUEGAP_ENGINE_REMOTE", spark_remote)
    root = tmp_path / "lake"
    lake(root, "2025-01", 3)
    spark = _ledger(tmp_path / "spark.duckdb", example_portfolio, tmp_path)
    spark("source", "add", "focus", "aws", "--path", str(root / "focus"), "--engine", "spark")
    spark(
        "source",
        "add",
        "usage",
        "gateway",
        "--path",
        str(root / "usage"),
        "--map",
        MAPPING,
        "--engine",
        "spark",
    )
    ingested = _ledger(tmp_path / "ingested.duckdb", example_portfolio, tmp_path)

    def ingest(files: list[Path]) -> None:
        for file in files:
            if "billing_period=" in str(file):
                ingested("ingest", "focus", str(file))
            else:
                ingested("ingest", "usage", str(file), "--format", "csv", "--map", MAPPING)

    ingest(sorted(root.rglob("*.parquet")))
    costs = ("costs", "--by", "initiative,business_unit,month,provider,model,basis")
    for asked in (costs, ("portfolio",)):
        expected = ingested.report(*asked)
        assert expected and expected == spark.report(*asked, "--engine", "spark")
    assert len(spark.report(*costs, "--engine", "spark")) > 10

    # A new billing period (and month of logs) lands: only its files are read.
    focus_month(root / "focus", "2025-04")
    usage_month(root / "usage", "2025-04")
    ingest(sorted(root.rglob("*2025-04*/*.parquet")))
    for asked in (costs, ("portfolio",)):
        assert spark.report(*asked, "--engine", "spark") == ingested.report(*asked)
    with Ledger.open(tmp_path / "spark.duckdb", actor="alice", read_only=True) as opened:
        for name in ("aws", "gateway"):
            partitions = opened.costs.sources.partitions(name)
            latest = max(p.run for p in partitions.values())
            read_last = sorted(
                Path(path).parent.name[-7:] for path, p in partitions.items() if p.run == latest
            )
            assert (len(partitions), read_last) == (4, ["2025-04"])

"""`valuegap report forecast` and `report anomalies` on the demo: the ledger's figures, as a
table at 80 columns and as JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.cells import cell_len
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.decimals import money
from valuegap.results import to_data


def test_the_forecast_table_shows_each_lines_figures(demo: Path) -> None:
    command = ["report", "forecast", "--month", "2026-06", "--as-of", "2026-06-11"]
    command += ["--db", str(demo), "--as", "you"]
    runner = CliRunner()
    table = runner.invoke(app, command, env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    as_json = json.loads(runner.invoke(app, [*command, "--format", "json"]).stdout)
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        june = ledger.costs.spend.forecast(
            ["initiative"], date(2026, 6, 1), as_of=date(2026, 6, 11)
        )
    assert as_json == to_data(june)
    title = "Forecast 2026-06 (as of 2026-06-11, 20 days left)"
    assert title in " ".join(table.stdout.split())
    words = set(table.stdout.split())
    for line in [*june.lines, june.total]:
        assert money(line.forecast, "USD") in words
        assert line.status is None or line.status in words
    assert all(cell_len(row) <= 80 for row in table.stdout.splitlines())


def test_anomalies_name_the_lines_that_drove_them(demo: Path) -> None:
    command = ["report", "anomalies", "--by", "provider", "--since", "2026-03-01"]
    command += ["--until", "2026-03-02", "--db", str(demo), "--as", "you"]
    runner = CliRunner()
    table = runner.invoke(app, command, env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    # OpenAI's March invoice: refund-agent's gpt-4o calls moved most.
    assert "OpenAI" in table.stdout and "refund-agent/OpenAI/gpt-4o +0.22" in table.stdout
    found = json.loads(runner.invoke(app, [*command, "--format", "json"]).stdout)
    (anomaly,) = found["anomalies"]
    assert (anomaly["provider"], anomaly["direction"], anomaly["since"]) == (
        "OpenAI",
        "up",
        "2026-03-01",
    )
    assert Decimal(anomaly["score"]) > Decimal("3.5")
    quiet = runner.invoke(
        app,
        [
            *command[:-6],
            "--since",
            "2026-06-01",
            "--until",
            "2026-06-08",
            "--db",
            str(demo),
            "--as",
            "you",
        ],
    )
    assert quiet.exit_code == 0


def test_a_refused_window_names_the_flags(demo: Path) -> None:
    runner = CliRunner()
    backwards = ["report", "anomalies", "--since", "2026-06-10", "--until", "2026-06-01"]
    result = runner.invoke(app, [*backwards, "--db", str(demo), "--as", "you"])
    assert result.exit_code == 1
    assert "--since" in result.output and "must be before the end, 2026-06-01" in result.output
    early = ["report", "forecast", "--as-of", "1066-10-14", "--db", str(demo), "--as", "you"]
    result = runner.invoke(app, early)
    assert result.exit_code == 1 and "--as-of" in result.output

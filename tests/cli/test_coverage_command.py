"""``valuegap report coverage``: the coverage trend, the same JSON as the API's."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.outcomes.periods import parse_period
from valuegap.results import to_data


def test_the_coverage_trend_in_json_is_the_ledgers(demo: Path) -> None:
    asked = ["report", "coverage", "--period", "2025-H2", "--format", "json"]
    result = CliRunner().invoke(app, [*asked, "--db", str(demo), "--as", "you"])
    assert result.exit_code == 0, result.output
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        expected = to_data(ledger.outcomes.coverage_trend(parse_period("2025-H2")))
    assert json.loads(result.output) == expected
    assert len(expected["months"]) == 6


def test_the_coverage_table_shows_each_month_as_a_percentage(demo: Path) -> None:
    result = CliRunner().invoke(app, ["report", "coverage", "--db", str(demo), "--as", "you"])
    assert result.exit_code == 0, result.output
    assert "attribution_coverage" in result.output and "2025-01" in result.output
    assert "%" in result.output

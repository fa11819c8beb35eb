"""`valuegap scenario`: what a person reads beside a scenario's value."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from valuegap.cli import app


def test_the_scenario_says_its_value_is_the_business_cases_whatever_the_volume(
    demo: Path,
) -> None:
    # The demo's code review at 200 times its 100 requests a day: inference 225.00 x 200 =
    # 45,000.00 a month, and the value over 36 months is its business case's, as before.
    asked = ["scenario", "code-review", "--volume", "20000/day", "--format", "markdown"]
    result = CliRunner().invoke(app, [*asked, "--db", str(demo), "--as", "you"])
    assert result.exit_code == 0, result.output
    assert "45,000.00" in result.output
    text = " ".join(result.output.split())
    assert (
        "the business case's planned value, which a change of volume, tokens per request, "
        "token price or model does not move: they move cost"
    ) in text

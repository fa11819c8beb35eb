"""Help reads well on any terminal: a flag shows no type, nothing is cut, and a sentence is
broken only where the terminal's width needs it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from valuegap.cli import app


def _commands() -> list[list[str]]:
    found = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        if hasattr(command, "list_commands"):  # a group: its commands, each made as it runs
            context = command.context_class(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("path", _commands(), ids=lambda path: " ".join(path) or "valuegap")
def test_help_at_80_columns_cuts_nothing_and_shows_no_type_for_a_flag(path: list[str]) -> None:
    shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    assert "<bool>" not in shown.stdout
    assert "…" not in shown.stdout
    assert not re.search(r"markdow(?!n)", shown.stdout)  # a word folded in two


def test_a_commands_summary_is_broken_by_the_width_not_by_the_source() -> None:
    shown = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"})
    summary = "LLM usage events: OpenTelemetry GenAI spans, LiteLLM spend logs, or CSV/Parquet; "
    summary += "the format is told from the content."
    assert summary in shown.stdout


def test_the_report_groups_summary_names_every_report() -> None:
    from valuegap.cli import report

    summary = report.app.info.help
    assert isinstance(summary, str)
    words = {"reconcile": "reconciliation", "forecast": "spend forecast", "jcurve": "J-curve"}
    words |= {"anomalies": "spend anomalies", "coverage": "coverage trend"}
    words |= {"executive": "executive report"}
    for command in report.app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        assert words.get(name, name) in summary, name

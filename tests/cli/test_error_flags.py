"""The domain's errors name the fields and calls of the Python API; the command line says the
same errors with its flags and commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.cli.errors import message
from valuegap.errors import NotFound, Problem, ValidationError

from .conftest import Run


def test_a_field_becomes_its_flag_and_a_call_its_command() -> None:
    refused = ValidationError(
        "The period is given twice.",
        [Problem("period", "give a period, or `from`/`to`, not both", "2026")],
    )
    assert message(refused) == (
        "The period is given twice.\n  - --period: give a period, or --from/--to, not both "
        "(found '2026')"
    )
    missing = NotFound("There is no metric 'm'; `Ledger.portfolio.metrics()` shows them.")
    assert message(missing) == "There is no metric 'm'; `valuegap metric list` shows them."
    asked = NotFound(
        "Ask finance: `Ledger.portfolio.agree_metric('m-1')`; see `Ledger.nothing_like_it()`."
    )
    assert message(asked) == (
        "Ask finance: `valuegap metric agree m-1`; see `Ledger.nothing_like_it()`."
    )


def test_the_python_api_names_the_field(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as refused:
        ledger.governance.run_reviews(date(2099, 1, 1))
    [problem] = refused.value.problems
    assert problem.where == "as_of"
    with pytest.raises(ValidationError) as refused:
        ledger.governance.users.add_user("carla", "contributor")
    assert [p.where for p in refused.value.problems] == ["units"]
    with pytest.raises(NotFound, match=r"`Ledger\.portfolio\.initiatives\(\)` shows them"):
        ledger.outcomes.initiative_report("nope")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("review", "run", "--as-of", "2099-01-01"), "  - --as-of: must be today"),
        (
            ("report", "portfolio", "--period", "2026", "--from", "2026-01"),
            "  - --period: give a period, or --from/--to, not both (found '2026')",
        ),
        (
            ("user", "add", "carla", "--role", "contributor"),
            "  - --business-unit: a contributor is scoped to business units: give --business-unit",
        ),
        (("report", "initiative", "nope"), "No initiative 'nope'; `valuegap initiative list`"),
        (
            (
                "price",
                "set",
                "gpt-4o",
                "--input-per-mtok",
                "-2",
                "--output-per-mtok",
                "1",
                "--from",
                "2025-05-01",
            ),
            "  - --input-per-mtok: must be a number from 0",
        ),
        (
            (
                "price",
                "set",
                "gpt-4o",
                "--input-per-mtok",
                "2",
                "--output-per-mtok",
                "1",
                "--from",
                "2025-05-01",
                "--to",
                "2025-04-01",
            ),
            "  - --to: must be after --from (2025-05-01)",
        ),
        (("audit", "checkpoint"), "Say where the checkpoint goes: --to, a file"),
        (("usage-is-not-a-command",), None),
    ],
)
def test_the_command_line_names_the_flag(run: Run, args: tuple[str, ...], said: str | None) -> None:
    result = run(*args)
    assert result.exit_code != 0
    if said is not None:
        assert said in result.stderr
        assert "`Ledger." not in result.stderr and "as_of" not in result.stderr


def test_retiring_by_advance_names_the_retire_command(run: Run) -> None:
    run("initiative", "add", "a", "--name", "A", "--kind", "use_case", "--business-unit", "ops")
    result = run("initiative", "advance", "a", "--to", "retired")
    assert "  - --to: use `valuegap initiative retire` with a reason and the learnings" in (
        result.stderr
    )


def test_an_unknown_user_is_told_the_command_that_adds_them(run: Run) -> None:
    result = run("initiative", "list", actor="mallory")
    assert "`valuegap user add mallory --role viewer` (or another role)" in result.stderr


def test_a_missing_ledger_names_init_and_the_db_flag(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from valuegap.cli import app

    missing = tmp_path / "no.duckdb"
    result = CliRunner().invoke(app, ["initiative", "list", "--db", str(missing)])
    assert f"Create one with `valuegap init --db {missing}`, or point --db" in result.stderr

"""The common options (``--db``, ``--as``, ``--format``, ``--debug``) before or after the
command, and ``--version``."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from valuegap.cli import app

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(db_path: Path) -> Invoke:
    """Run `valuegap ARGS` as written (no options added), on a ledger with one initiative."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    db = str(db_path)
    assert run("init", "--db", db, "--as", "alice").exit_code == 0
    add = ["initiative", "add", "a", "--name", "A", "--business-unit", "ops"]
    added = run(*add, "--db", db, "--as", "alice")
    assert added.exit_code == 0, added.output
    return run


def test_the_common_options_may_come_before_the_command(invoke: Invoke, db_path: Path) -> None:
    db = str(db_path)
    listed = invoke("--db", db, "--as", "alice", "--format", "json", "initiative", "list")
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.stdout)] == ["a"]
    short = invoke("--db", db, "-f", "csv", "--as", "alice", "initiative", "list")
    assert short.stdout.startswith("id,")


def test_an_option_after_the_command_wins(invoke: Invoke, db_path: Path, tmp_path: Path) -> None:
    before = f"--db {tmp_path / 'other.duckdb'} --as nobody --format json"
    after = f"--db {db_path} --as alice --format csv"
    listed = invoke(*f"{before} initiative list {after}".split())
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.startswith("id,")


def test_an_option_before_the_command_wins_over_the_environment(
    invoke: Invoke, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALUEGAP_DB", str(tmp_path / "other.duckdb"))
    monkeypatch.setenv("VALUEGAP_USER", "nobody")
    listed = invoke("--db", str(db_path), "--as", "alice", "initiative", "list", "-f", "json")
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.stdout)] == ["a"]


def test_debug_before_the_command_shows_the_traceback(invoke: Invoke, db_path: Path) -> None:
    show = ["--db", str(db_path), "--as", "alice", "initiative", "show", "nope"]
    plain = invoke(*show)
    assert plain.exit_code == 1 and "Error: " in plain.stderr
    debugged = invoke("--debug", *show)
    assert debugged.exit_code == 1
    assert type(debugged.exception).__name__ == "NotFound"


def test_format_before_a_command_without_output_is_ignored(invoke: Invoke, db_path: Path) -> None:
    command = "initiative add b --name B --business-unit ops"
    added = invoke(*f"--format json --db {db_path} --as alice {command}".split())
    assert added.exit_code == 0, added.output
    assert "Proposed initiative b" in added.stdout


def test_version() -> None:
    shown = CliRunner().invoke(app, ["--version"])
    assert shown.exit_code == 0
    assert shown.stdout.strip() == f"valuegap {version('valuegap')}"

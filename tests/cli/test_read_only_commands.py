"""Every command that only reads opens the ledger read-only, so that it runs beside other
readers (issue 16), and leaves the file as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger

from .conftest import Run

READERS = [
    "report costs",
    "report reconcile",
    "report initiative loc-qa",
    "report portfolio",
    "report scoreboard",
    "report forecast",
    "report anomalies",
    "initiative list",
    "initiative show loc-qa",
    "metric list",
    "user list",
    "agent list",
    "approval list",
    "review list",
    "rules list",
    "price list",
    "price unpriced",
    "policy list",
    "policy show enterprise",
    "policy export enterprise",
    "gate check loc-qa --to poc",
    "audit log",
    "audit verify",
    "key show",
    "export",
]


def test_every_reading_command_opens_the_ledger_read_only(
    run: Run, db_path: Path, example_portfolio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("apply", str(example_portfolio)).exit_code == 0
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    opened: list[bool] = []
    real_open = Ledger.open

    def spy(*args: Any, read_only: bool = False, **kwargs: Any) -> Ledger:
        opened.append(read_only)
        return real_open(*args, read_only=read_only, **kwargs)

    monkeypatch.setattr(Ledger, "open", spy)
    for command in READERS:
        opened.clear()
        result = run(*command.split())
        assert result.exit_code == 0, (command, result.output)
        assert opened == [True], command
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before

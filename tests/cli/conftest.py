from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from valuegap.cli import app

Run = Callable[..., Result]


@pytest.fixture
def run(db_path: Path) -> Run:
    """Run `valuegap ARGS --db <tmp> --as alice`; a fresh ledger is initialised first."""
    runner = CliRunner()

    def invoke(*args: str, actor: str = "alice") -> Result:
        return runner.invoke(app, [*args, "--db", str(db_path), "--as", actor])

    assert invoke("init").exit_code == 0
    return invoke

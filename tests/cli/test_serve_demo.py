"""``valuegap serve --demo``: the demo built (in a temporary ledger, or the one given), a
login made for it and printed, then served. The server itself is replaced here by a stand-in
that looks at the ledger it was given."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from valuegap.cli import app
from valuegap.ledger import Ledger


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each stand-in server was given: the ledger's file and its users."""
    calls: list[dict[str, Any]] = []

    def stand_in(ledger: Ledger, *, host: str, port: int) -> None:
        users = {u.name: u.role for u in ledger.governance.users.users()}
        path = Path(ledger.session.path)
        calls.append({"path": path, "exists": path.exists(), "users": users, "port": port})

    monkeypatch.setattr("valuegap.web.server.run", stand_in)
    return calls


def password(output: str) -> str:
    found = re.search(r"sign in as demo with the password (\S+) ", output)
    assert found, output
    return found.group(1)


def test_the_demo_in_a_temporary_ledger(served: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, ["serve", "--demo", "--port", "8123", "--as", "sam"])
    assert result.exit_code == 0, result.output
    assert "Serving the demo at http://127.0.0.1:8123/ - sign in as demo" in result.output
    assert len(password(result.output)) >= 16
    (call,) = served
    assert call["exists"] and call["port"] == 8123
    assert call["users"]["demo"] == "admin"
    assert call["users"]["grace.okafor"] == "governance"  # the demo's people are there
    assert not call["path"].exists()  # the temporary ledger is gone once the server stops
    assert not call["path"].parent.exists()


def test_the_demo_in_a_given_ledger_and_its_login(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    db = tmp_path / "demo.duckdb"
    first = CliRunner().invoke(app, ["serve", "--demo", "--db", str(db), "--as", "sam"])
    assert first.exit_code == 0, first.output
    with Ledger.open(db, actor="sam") as ledger:
        credentials = ledger.governance.credentials
        user = credentials.check_password("demo", password(first.output))
        assert user is not None and user.role == "admin"
    # the demo with its login still counts as the demo unchanged: built again, a new password
    again = CliRunner().invoke(app, ["serve", "--demo", "--db", str(db), "--as", "sam"])
    assert again.exit_code == 0, again.output
    assert password(again.output) != password(first.output)
    assert [call["path"] for call in served] == [db, db]


def test_a_ledger_that_is_not_a_demo_is_left_alone(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    db = tmp_path / "mine.duckdb"
    assert CliRunner().invoke(app, ["init", "--db", str(db), "--as", "sam"]).exit_code == 0
    result = CliRunner().invoke(app, ["serve", "--demo", "--db", str(db), "--as", "sam"])
    assert result.exit_code != 0
    assert "is not a demo ledger, so the demo will not replace it" in result.output
    assert served == []
    replace = CliRunner().invoke(app, ["serve", "--replace", "--db", str(db), "--as", "sam"])
    assert replace.exit_code != 0
    assert "--replace is for --demo only" in replace.output

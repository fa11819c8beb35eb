"""The API over a copy of the demo organisation, with an API token for each of its people."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from valuegap.cli import app as cli_app
from valuegap.ledger import Ledger
from valuegap.web.app import create_app

ADMIN = "you"  # who built the demo (conftest's `demo`)
PEOPLE = ("ana.costa", "omar.haddad", "lena.fischer", "finn.berg", "grace.okafor", "exec.board")
AGENT_ACCOUNT = "svc.refund-agent"


@dataclass
class Served:
    ledger: Ledger  # acting as the admin
    path: Path
    clients: dict[str, TestClient]

    def __call__(self, user: str = ADMIN) -> TestClient:
        """A client with ``user``'s API token."""
        return self.clients[user]

    @property
    def anonymous(self) -> TestClient:
        return self.clients[""]


@pytest.fixture
def served(demo: Path, tmp_path: Path) -> Iterator[Served]:
    """A copy of the demo, served: each test may change it."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo, path)
    ledger = Ledger.open(path, actor=ADMIN)
    app = create_app(ledger)
    clients = {"": TestClient(app)}
    for name in (ADMIN, *PEOPLE, AGENT_ACCOUNT):
        secret = ledger.governance.credentials.create_token(name).secret
        clients[name] = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    yield Served(ledger, path, clients)
    ledger.close()


def cli_json(db: Path, *args: str, actor: str = ADMIN) -> Any:
    """What ``valuegap ARGS --format json`` prints, read back."""
    result = CliRunner().invoke(
        cli_app, [*args, "--format", "json", "--db", str(db), "--as", actor]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_json(model: Any) -> Any:
    """A portfolio model as a client writes it back: money and other numbers as JSON numbers
    (a portfolio document refuses quoted numbers, as a portfolio file does)."""
    data = model.model_dump(mode="python", exclude_none=True)
    text = json.dumps(data, default=lambda v: float(v) if isinstance(v, Decimal) else str(v))
    return json.loads(text)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem details of an error response, checked for their shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body

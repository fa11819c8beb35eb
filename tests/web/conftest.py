"""The API over a copy of the demo organisation, with an API token for each of its people:
``served`` (a copy per test, a client per person), ``demo_server`` (a copy per module, which
its tests may change) and ``empty_server`` (a new ledger with only its admin)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from valuegap.cli import app as cli_app
from valuegap.demo import AGENT_ACCOUNTS
from valuegap.demo import PEOPLE as DEMO_PEOPLE
from valuegap.ledger import Ledger
from valuegap.settings import Settings
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


def with_cell(file: Path, row: int, column: str, value: str) -> bytes:
    """A CSV file with one cell changed: that of ``column`` on the ``row``-th line of data."""
    rows = list(csv.reader(file.read_text().splitlines()))
    rows[row][rows[0].index(column)] = value
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


@dataclass
class Server:
    """A ledger served in-process, and an API token of each of its users."""

    ledger: Ledger
    app: FastAPI
    tokens: dict[str, str]

    def client(self, user: str | None = ADMIN) -> TestClient:
        """A client calling as ``user`` (None: without credentials)."""
        headers = {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}
        return TestClient(self.app, headers=headers, raise_server_exceptions=False)


def copy_of(ledger: Path, folder: Path) -> Path:
    """A copy of a ledger file (with whatever files beside it share its name)."""
    for source in ledger.parent.iterdir():
        if source.name.startswith(ledger.name):
            shutil.copy(source, folder / source.name)
    return folder / ledger.name


def serving(path: Path, users: list[str]) -> Iterator[Server]:
    with Ledger.open(path, actor=ADMIN, settings=Settings(db=path)) as ledger:
        credentials = ledger.governance.credentials
        tokens = {name: credentials.create_token(name).secret for name in users}
        yield Server(ledger, create_app(ledger), tokens)


@pytest.fixture(scope="module")
def demo_server(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo, served: a copy per test module, which its tests may change."""
    path = copy_of(demo, tmp_path_factory.mktemp("served-demo"))
    yield from serving(path, [ADMIN, *DEMO_PEOPLE, *AGENT_ACCOUNTS])


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[Server]:
    """A new ledger with only its admin, ``you``, served."""
    path = tmp_path / "ledger.duckdb"
    Ledger.init(path, actor=ADMIN, settings=Settings(db=path)).close()
    yield from serving(path, [ADMIN])

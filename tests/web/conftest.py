"""What the API's tests share: a copy of the demo ledger served in-process, with an API token
for each of its people (and for its admin, ``you``), and a fresh empty ledger."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from valuegap import Ledger
from valuegap.demo import AGENT_ACCOUNTS, PEOPLE
from valuegap.settings import Settings
from valuegap.web.app import create_app

ADMIN = "you"  # the demo's builder (tests/conftest.py)


def with_cell(file: Path, row: int, column: str, value: str) -> bytes:
    """A CSV file with one cell changed: that of ``column`` on the ``row``-th line of data."""
    rows = list(csv.reader(file.read_text().splitlines()))
    rows[row][rows[0].index(column)] = value
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


@dataclass
class Served:
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


def served(path: Path, users: list[str]) -> Iterator[Served]:
    with Ledger.open(path, actor=ADMIN, settings=Settings(db=path)) as ledger:
        credentials = ledger.governance.credentials
        tokens = {name: credentials.create_token(name).secret for name in users}
        yield Served(ledger, create_app(ledger), tokens)


@pytest.fixture(scope="module")
def demo_server(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo, served: a copy per test module, which its tests may change."""
    path = copy_of(demo, tmp_path_factory.mktemp("served-demo"))
    yield from served(path, [ADMIN, *PEOPLE, *AGENT_ACCOUNTS])


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[Served]:
    """A new ledger with only its admin, ``you``, served."""
    path = tmp_path / "ledger.duckdb"
    Ledger.init(path, actor=ADMIN, settings=Settings(db=path)).close()
    yield from served(path, [ADMIN])

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger

EXAMPLES = Path(__file__).parent.parent / "examples"


# The demo's total cost, every dollar once: 3,538,738.604. Code review's PoC adds 7.5 USD a
# day over its 456 days (100 calls of 19,000 input and 1,200 output tokens at 3 and 15 USD a
# million), where at 6 calls a day it added 0.4545: 3,535,525.856 + 456 x 7.0455.
DEMO_TOTAL = Decimal("3538738.60")  # to the cent


def back_to_schema(con: Any, version: int) -> None:
    """Make a ledger look as schema ``version`` left it (``con``: a DuckDB connection to its
    file): drop the tables, sequences and columns that later migrations added, and forget
    them."""
    from valuegap.store.migrations import MIGRATIONS

    for migration in MIGRATIONS:
        if migration.version > version:
            for statement in migration.statements:
                made = re.match(r"\s*CREATE (TABLE|SEQUENCE) (\w+)", statement)
                if made:
                    con.execute(f"DROP {made.group(1)} IF EXISTS {made.group(2)}")
                added = re.match(r"\s*ALTER TABLE (\w+) ADD COLUMN (\w+)", statement)
                if added:
                    con.execute(
                        f"ALTER TABLE {added.group(1)} DROP COLUMN IF EXISTS {added.group(2)}"
                    )
    con.execute(f"DELETE FROM valuegap_schema WHERE version > {int(version)}")


class SteppingClock:
    """A deterministic clock: each reading is one second after the last."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.duckdb"


@pytest.fixture
def ledger(db_path: Path, clock: SteppingClock) -> Iterator[Ledger]:
    with Ledger.init(db_path, actor="alice", clock=clock) as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _session_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's configuration folder, where keys are kept, for what is built once for many
    tests (the demo, module fixtures): a temporary folder, never the user's home."""
    folder = tmp_path_factory.mktemp("session-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, _session_config: Path) -> Path:
    """The demo ledger, built once: tests read it and never change it (copy it to change: a
    copy finds the demo's pseudonymisation key, as each test's configuration folder starts
    with the keys made for the session's ledgers)."""
    from valuegap.demo import build_demo
    from valuegap.settings import Settings

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(Settings(db=path), actor="you")
    return path


@pytest.fixture
def demo_copy(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo ledger that a test may change."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo, path)
    return path


def key_file_of(ledger: Ledger) -> Path:
    """Where ``ledger``'s pseudonymisation key file is made by default: named by the ledger's
    id, in the configuration folder."""
    from valuegap.settings import config_directory

    return config_directory() / "keys" / f"{ledger.session.db.get_meta('ledger_id')}.key"


@pytest.fixture
def example_portfolio() -> Path:
    return EXAMPLES / "portfolio.yaml"


def ready(initiative_id: str, **fields: Any) -> dict[str, Any]:
    """An initiative that the default gates let through to production, once its controls are
    attested and finance agreed its method; ``fields`` change or add to it."""
    return {
        "id": initiative_id, "name": initiative_id.upper(), "kind": "use_case",
        "business_unit": "ops", "owner": "Olu Ade", "risk_tier": "limited",
        "kill_criteria": ["roi < 0 && months_live >= 6"],
        "poc_evaluation": {"representative_data": True, "evaluated_by": "Ops clerks",
                           "independent_of_builders": True, "accuracy": 0.9, "sample_size": 300},
        "production_cost_estimate": {"currency": "USD", "monthly": 1200},
        "human_in_the_loop": "Clerks review low-confidence cases.",
        "fallback": "The manual queue.",
        "metrics": [{"id": f"{initiative_id}-hours", "name": "Hours", "unit": "h/week",
                     "direction": "decrease", "baseline": {"value": 40, "period": "2025-Q4"},
                     "value_per_unit": 62, "currency": "USD", "method": "before_after"}],
        **fields,
    }  # fmt: skip


@pytest.fixture(autouse=True)
def _config_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any, _session_config: Path
) -> Path:
    """Each test's own configuration folder, where its keys are made, never the user's home.
    It starts as a copy of the session's, so that a copy of the demo finds its
    pseudonymisation key, and a test that removes a key removes only its own copy."""
    folder = tmp_path_factory.mktemp("config")
    shutil.copytree(_session_config, folder, dirs_exist_ok=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _audit_key_in_tmp(_config_in_tmp: Path, monkeypatch: Any) -> Path:
    """The audit checkpoint key of every test, in its configuration folder."""
    key = _config_in_tmp / "valuegap" / "audit-key.pem"
    monkeypatch.setenv("VALUEGAP_AUDIT_KEY", str(key))
    return key


# An agent the refund team runs, registered and at mvp by the fixture `agent`.
AGENT = {
    "objective": "Resolve routine refund tickets end to end.",
    "allowed_actions": ["issue_refund", "send_reply"],
    "autonomy": "autonomous",
    "approval_threshold": Decimal("200"),
    "currency": "USD",
}


@pytest.fixture
def agent(ledger: Ledger) -> Ledger:
    """The ledger acting as the service account "svc" of the agent "refunds"."""
    ledger.portfolio.add_initiative(ready("refunds", kind="agent", business_unit="service"))
    ledger.agents.register_agent("refunds", AGENT)
    ledger.governance.gates.advance("refunds", "poc")
    ledger.governance.gates.advance("refunds", "mvp")
    ledger.governance.users.add_user("svc", "contributor", ["service"])
    return ledger.acting_as("svc")


@pytest.fixture(scope="session")
def spark_remote() -> Iterator[str]:
    """The address of a local Spark Connect server, started once for the test session (Java 17
    and PySpark's Connect jars); its first use takes a few seconds."""
    from valuegap.costs.engines import close_sessions

    from .spark_connect import connect_server

    with connect_server() as address:
        try:
            yield address
        finally:
            close_sessions()

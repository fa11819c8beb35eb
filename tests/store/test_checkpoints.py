"""DuckDB's log written into the file (a checkpoint) between writes, by the writer: never in
the commit of a write that holds the audit chain, for which every decision would wait."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from valuegap import Ledger
from valuegap.store import database
from valuegap.store.database import Database

from ..conftest import ready
from ..costs.test_inbox import _export

# DuckDB checkpoints in the commit whose writes, as it estimates them, would take its log past
# this: a drain here adds about 40 KB to the log, but DuckDB counts 1.4 to 1.6 MB.
DUCKDB_THRESHOLD = 4 * 1024 * 1024


def _log_size(db: Database) -> int:
    log = Path(f"{db.path}.wal")
    return log.stat().st_size if log.exists() else 0


def _record_chain_holds(monkeypatch: pytest.MonkeyPatch, holds: list[tuple[int, int]]) -> None:
    """Append to ``holds``, for each write's transaction that held the audit chain, the log's
    size when it took the chain and once it had committed."""
    enter, leave = Database.enter_chain, Database._leave_chain
    entered: dict[int, int] = {}

    def enter_chain(db: Database) -> None:
        if threading.get_ident() not in entered:
            entered[threading.get_ident()] = _log_size(db)
        enter(db)

    def leave_chain(db: Database, *, committed: bool) -> None:
        if (size := entered.pop(threading.get_ident(), None)) is not None and committed:
            holds.append((size, _log_size(db)))
        leave(db, committed=committed)

    monkeypatch.setattr(Database, "enter_chain", enter_chain)
    monkeypatch.setattr(Database, "_leave_chain", leave_chain)


def test_decisions_beside_two_minutes_of_drains_never_wait_for_a_checkpoint(
    agent: Ledger, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four callers decide, up to 200 a second each, while two minutes of an application's
    spans (an export of 100 a second) are received and drained, with DuckDB's threshold at 4
    MiB rather than 16 (and valuegap's at half of it). The log is written into the file
    between the drains, several times, and never in the commit of a drain, which holds the
    chain: there its size would fall. Before, DuckDB did it in a drain's commit each time."""
    db = agent.session.db
    db.execute(f"SET checkpoint_threshold = '{DUCKDB_THRESHOLD}B'")
    monkeypatch.setattr(database, "CHECKPOINT_AT", DUCKDB_THRESHOLD // 2, raising=False)
    holds: list[tuple[int, int]] = []
    _record_chain_holds(monkeypatch, holds)
    draining = threading.Event()
    draining.set()

    def drain_two_minutes() -> None:
        try:
            for second in range(120):
                ledger.costs.inbox.receive(_export(second + 1, 100))
                ledger.costs.inbox.drain()
        finally:
            draining.clear()

    def caller(number: int) -> int:
        decided = 0
        while draining.is_set():
            order = {"order": f"{number}-{decided}"}
            found = agent.agents.authorize("refunds", "issue_refund", Decimal("45.90"), order)
            assert found.decision == "allow"
            decided += 1
            time.sleep(0.005)
        return decided

    drainer = threading.Thread(target=drain_two_minutes)
    drainer.start()
    with ThreadPoolExecutor(4) as pool:
        decided = sum(pool.map(caller, range(4)))
    drainer.join(120)

    assert len(holds) == 120, "each drain holds the chain once"
    in_a_drain = [(before, after) for before, after in holds if after < before]
    assert in_a_drain == [], "drains' commits that wrote the log into the file"
    between = sum(1 for (_, after), (before, _) in itertools.pairwise(holds) if before < after)
    assert between >= 2
    events = ledger.session.db.one("SELECT count(*) FROM usage_events WHERE source = 'otel'")
    assert events == (12_000,)
    entries = ledger.governance.audit.audit_log()
    assert sum(e.action == "agent.authorize" for e in entries) == decided
    assert ledger.governance.audit.verify_audit().ok


class _RefusingCheckpoints:
    """A connection whose CHECKPOINT fails, as on a full disk; everything else as it was."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "CHECKPOINT":
            raise duckdb.IOException("No space left on device")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_a_checkpoint_that_fails_fails_no_write_and_is_logged(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The write before a checkpoint has committed: a checkpoint that fails is logged, naming
    the ledger, and the write is answered as done."""
    db = ledger.session.db
    monkeypatch.setattr(database, "CHECKPOINT_AT", 0)
    monkeypatch.setattr(db, "_con", _RefusingCheckpoints(db._con))
    with caplog.at_level(logging.WARNING, logger="valuegap.store"):
        ledger.portfolio.add_initiative(ready("refunds", kind="agent", business_unit="service"))
    assert ledger.portfolio.initiative("refunds").business_unit == "service"
    assert f"{db.path}: DuckDB's log" in caplog.text
    assert "No space left on device" in caplog.text
    assert ledger.governance.audit.verify_audit().ok

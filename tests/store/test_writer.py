"""The one writer: answers after commit, a failing write alone, readers that never wait,
nested transactions, and a cache that a slow reader cannot make stale."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import ConfigError, ValuegapError
from valuegap.store.database import Database
from valuegap.store.read_cache import MISSING, ReadCache
from valuegap.store.writer import GroupCommit, _Signal


def _logged_orders(ledger: Ledger) -> set[str]:
    """The order ids of the decisions a reader sees: committed ones only."""
    return {
        json.loads(e.after or "{}")["context"]["order_id"]
        for e in ledger.governance.audit.audit_log(entity_id="refunds")
        if e.action == "agent.authorize"
    }


def test_each_decision_is_committed_before_it_is_answered(agent: Ledger) -> None:
    """16 callers on one ledger: as soon as a decision is answered, a reader (which sees only
    committed entries) finds its audit entry."""

    def caller(number: int) -> list[str]:
        unseen = []
        for call in range(10):
            order = f"{number}-{call}"
            agent.agents.authorize("refunds", "issue_refund", Decimal("45.90"), {"order_id": order})
            if order not in _logged_orders(agent):
                unseen.append(order)
        return unseen

    with ThreadPoolExecutor(16) as pool:
        unseen = [order for found in pool.map(caller, range(16)) for order in found]
    assert unseen == []
    assert len(_logged_orders(agent)) == 160
    assert agent.governance.audit.verify_audit().ok


def _write_keys(db: Database, keys: Sequence[str]) -> list[str]:
    for key in keys:
        if key == "bad":
            raise ValuegapError("this write is refused")
        db.execute("INSERT INTO ledger_meta (key, value) VALUES (?, 'written')", [key])
    return list(keys)


def test_a_failing_write_does_not_take_its_group_down(db_path: Path) -> None:
    db = Database.open(db_path, create=True)
    keys = ["k0", "k1", "k2", "bad", "k4", "k5", "k6", "k7"]
    answers: dict[str, object] = {}

    def write(key: str) -> None:
        try:
            answers[key] = db.in_group(key, _write_keys)
        except ValuegapError as refused:
            answers[key] = str(refused)

    with db.writing():  # hold the writer until all eight are waiting, so that they batch
        threads = [threading.Thread(target=write, args=(key,)) for key in keys]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(db._writer.group._queue) < len(keys) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # the leader took its own; seven wait in the queue
    for thread in threads:
        thread.join()
    assert answers == {key: key if key != "bad" else "this write is refused" for key in keys}
    written = db.all("SELECT key FROM ledger_meta WHERE value = 'written' ORDER BY key")
    assert [row["key"] for row in written] == ["k0", "k1", "k2", "k4", "k5", "k6", "k7"]
    db.close()


def test_a_batch_that_cannot_begin_fails_every_caller_with_the_reason(db_path: Path) -> None:
    """A leader that cannot open the transaction (here: a ledger opened read-only) answers
    its own caller with the reason, as it answers the others: none is told it was written."""
    Database.open(db_path, create=True).close()
    db = Database.open(db_path, create=False, read_only=True)
    with pytest.raises(ConfigError, match="read-only"):
        db.in_group("k", _write_keys)
    db.close()


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_a_leader_gathers_as_many_callers_as_the_previous_batch_held(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers that come back together stay one batch (instead of a full one and a batch of
    one, which commits as slowly); a caller alone waits only ``GATHER_WAIT`` for company."""
    db = Database.open(db_path, create=True)
    group = db._writer.group
    batches: list[list[str]] = []

    def write_all(db: Database, keys: Sequence[str]) -> list[str]:
        batches.append(list(keys))
        return _write_keys(db, keys)

    def submit(key: str) -> threading.Thread:
        thread = threading.Thread(target=db.in_group, args=(key, write_all))
        thread.start()
        return thread

    with db.writing():  # the first caller leads alone; two queue behind it
        first = [submit(key) for key in ("a", "b", "c")]
        _wait_until(lambda: len(group._queue) == 2)
    for thread in first:
        thread.join()
    assert sorted(len(batch) for batch in batches) == [1, 2]

    monkeypatch.setattr(GroupCommit, "GATHER_WAIT", 30.0)
    alone = submit("d")  # leads, and waits for a second caller, as the last batch held two
    _wait_until(lambda: group._gathering)
    submit("e").join()
    alone.join()
    assert batches[-1] == ["d", "e"]

    monkeypatch.setattr(GroupCommit, "GATHER_WAIT", 0.0003)
    submit("f").join()  # two were expected; none came, so it went alone
    submit("g").join()  # and now one is expected
    assert batches[-2:] == [["f"], ["g"]]
    db.close()


def test_a_reader_does_not_wait_for_the_writer(db_path: Path) -> None:
    db = Database.open(db_path, create=True)
    db.set_meta("colour", "blue")
    seen: list[str | None] = []
    with db.transaction():
        db.set_meta("colour", "red")  # written, not committed, the writer still held
        reader = threading.Thread(target=lambda: seen.append(db.get_meta("colour")))
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive(), "the reader waited for the writer"
    assert seen == ["blue"]  # what was committed when it read
    assert db.get_meta("colour") == "red"
    db.close()


def test_a_read_of_one_row_leaves_no_result_open(db_path: Path) -> None:
    """``one()`` reads its result to the end. A result left open keeps its cursor's
    transaction open, and DuckDB then keeps every version of each row changed since: the
    audit head's UPDATE, made once a commit, got slower with every decision (1,000 decisions
    took it from 0.4 ms to 2.4 ms, 6,000 to 5.6 ms)."""
    db = Database.open(db_path, create=True)
    found: list[object] = []

    def read() -> None:
        found.append(db.one("SELECT * FROM range(3)"))
        found.append(db._current().fetchall())  # what the read left behind on its cursor

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=60)
    assert found == [(0,), []]
    assert db.one("SELECT 1 WHERE false") is None
    db.close()


def test_a_decision_in_an_outer_transaction_joins_it(agent: Ledger) -> None:
    before = len(agent.governance.audit.audit_log())
    with pytest.raises(RuntimeError), agent.session.db.transaction():
        decision = agent.agents.authorize(
            "refunds", "issue_refund", Decimal("5"), {"order_id": "A"}
        )
        assert decision.decision == "allow"
        raise RuntimeError("the outer write fails after the decision")
    assert len(agent.governance.audit.audit_log()) == before  # rolled back with it
    agent.agents.authorize("refunds", "issue_refund", Decimal("5"), {"order_id": "B"})
    assert _logged_orders(agent) == {"B"}
    assert agent.governance.audit.verify_audit().ok


def test_a_read_from_before_a_commit_is_not_kept() -> None:
    cache = ReadCache()
    generation = cache.generation  # a reader starts reading the users
    cache.forget()  # a write that changes them commits meanwhile
    cache.store("users", ["alice"], generation)  # the reader's (stale) answer arrives
    assert cache.get("users") is MISSING
    cache.store("users", ["alice", "bob"], cache.generation)
    assert cache.get("users") == ["alice", "bob"]


def test_a_signal_wakes_its_waiter_whether_set_before_or_after_the_wait() -> None:
    early = _Signal()
    early.set()
    early.set()  # a second set changes nothing
    early.wait()  # returns at once
    late = _Signal()
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: (late.wait(), woken.set()))
    waiter.start()
    assert not woken.wait(0.05)
    late.set()
    waiter.join(timeout=60)
    assert woken.is_set()


def test_the_cursors_of_ended_threads_are_closed(db_path: Path) -> None:
    """A server's threads come and go: a ledger keeps a cursor per live thread, not per thread
    it ever served."""
    db = Database.open(db_path, create=True)
    for _ in range(50):
        reader = threading.Thread(target=lambda: db.get_meta("colour"))
        reader.start()
        reader.join()
    assert db.get_meta("colour") is None  # this thread's read closes the ended threads' cursors
    assert len(db._cursors) <= 2  # this thread's, and the last reader's if it is still ending
    db.close()


def test_a_refused_open_leaves_no_writer_behind(db_path: Path) -> None:
    """A ledger that cannot be opened lets go of the file's writer, so that a new ledger at
    the same path starts with nothing cached from before."""
    from valuegap.store import writer
    from valuegap.store.migrations import MIGRATIONS, Migration

    newer = Migration(MIGRATIONS[-1].version + 1, "test: from a newer valuegap", ())
    Database.open(db_path, create=True, migrations=[*MIGRATIONS, newer]).close()
    with pytest.raises(ValuegapError, match="newer valuegap"):
        Database.open(db_path, create=False)
    assert db_path.resolve() not in writer._WRITERS


def test_verify_while_decisions_are_committed(agent: Ledger) -> None:
    """``audit verify`` during writes sees one moment of the ledger: the log, its head and the
    tables as they were together, never a head newer than the entries it read."""

    def caller(number: int) -> None:
        for call in range(40):
            order = {"order_id": f"{number}-{call}"}
            agent.agents.authorize("refunds", "issue_refund", Decimal("45.90"), order)

    writers = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    for thread in writers:
        thread.start()
    failed = []
    while any(thread.is_alive() for thread in writers):
        verification = agent.governance.audit.verify_audit()
        if not verification.ok:
            failed.append(verification.message)
    assert failed == []
    assert agent.governance.audit.verify_audit().ok

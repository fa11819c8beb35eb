"""Agents' decisions beside writes: a decision does not wait for a write in progress (an
ingest, the OTLP drain), only for the commit of a write that appends to the audit chain; the
chain stays one order, in which a decision made while a write was open comes before it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest

from valuegap import Ledger
from valuegap.errors import ValuegapError
from valuegap.governance.agents import AgentDecision
from valuegap.model.audit import AuditEntry
from valuegap.store.audit import AuditStore
from valuegap.store.database import Database
from valuegap.store.journal import Journal
from valuegap.store.read_cache import ReadCache

USAGE = "event_id,timestamp,provider,model,input_tokens,output_tokens,cost,currency,initiative"


def _decide(agent: Ledger, order: str, amount: str = "45.90") -> str:
    return _ask(agent, order, amount).decision


def _ask(agent: Ledger, order: str, amount: str = "350") -> AgentDecision:
    return agent.agents.authorize("refunds", "issue_refund", Decimal(amount), {"order": order})


def _log(ledger: Ledger) -> list[AuditEntry]:
    return list(reversed(ledger.governance.audit.audit_log()))


def _orders(entries: list[AuditEntry]) -> list[str]:
    return [
        json.loads(e.after or "{}")["context"]["order"]
        for e in entries
        if e.action == "agent.authorize"
    ]


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(work()))
    thread.start()
    return thread, done


def test_a_decision_does_not_wait_for_a_write_in_progress(agent: Ledger) -> None:
    """A write holds the ledger's writer (as an ingest does, for its whole transaction); a
    decision meanwhile is answered, and its entry comes before the write's in the chain."""
    db = agent.session.db
    writing, decided = threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction():
            db.execute("INSERT INTO ledger_meta (key, value) VALUES ('a-write', 'in progress')")
            writing.set()
            assert decided.wait(30), "the decision waited for the write"
            agent.session.record("test.write", "test", "w", None, {"written": True})

    writer, _ = _in_thread(write)
    assert writing.wait(30)
    assert _decide(agent, "while-writing") == "allow"
    decided.set()
    writer.join(30)
    entries = _log(agent)
    actions = [e.action for e in entries]
    assert actions.index("agent.authorize") < actions.index("test.write")
    assert _orders(entries) == ["while-writing"]
    assert agent.governance.audit.verify_audit().ok


def _decided_while_a_write_holds_the_chain(
    agent: Ledger, take_chain: Callable[[], None], order: str
) -> None:
    """A write takes the chain (``take_chain()`` in its transaction), then waits: a decision
    asked meanwhile is answered only once the write has committed."""
    db = agent.session.db
    held, commit = threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction():
            take_chain()
            held.set()
            assert commit.wait(30)

    writer, _ = _in_thread(write)
    assert held.wait(30)
    decider, answer = _in_thread(lambda: _decide(agent, order))
    decider.join(0.5)
    assert decider.is_alive() and not answer, "decided while the write held the chain"
    commit.set()
    writer.join(30)
    decider.join(30)
    assert answer == ["allow"]


def test_a_decision_waits_for_the_commit_of_a_write_that_appended_to_the_chain(
    agent: Ledger,
) -> None:
    """From a write's first audit entry to its commit the chain is the write's: a decision
    asked meanwhile is answered after the commit, on what it committed, and follows it."""

    def record() -> None:
        agent.session.record("test.write", "test", "w", None, {"written": True})

    _decided_while_a_write_holds_the_chain(agent, record, "after-the-write")
    actions = [e.action for e in _log(agent)]
    assert actions.index("test.write") < actions.index("agent.authorize")
    assert agent.governance.audit.verify_audit().ok


def test_a_write_that_fails_gives_back_the_decisions_it_took(agent: Ledger) -> None:
    """A write takes the journal's decisions into its transaction before its own entry; if
    it rolls back, they wait in the journal again and land once, in order."""
    for n in range(5):
        _decide(agent, f"before-{n}")
    db = agent.session.db
    with pytest.raises(ValuegapError), db.transaction():
        agent.session.record("test.write", "test", "w", None, {"written": True})
        raise ValuegapError("the write is refused")
    for n in range(5):
        _decide(agent, f"after-{n}")
    entries = _log(agent)
    assert "test.write" not in [e.action for e in entries]
    assert _orders(entries) == [f"before-{n}" for n in range(5)] + [f"after-{n}" for n in range(5)]
    assert agent.governance.audit.verify_audit().ok


def test_a_request_waiting_in_the_journal_is_found_again_after_the_cache_is_emptied(
    agent: Ledger,
) -> None:
    """An agent that asks again for an action waiting for approval names the same request,
    though its request is still in the journal, not the table, when the cache is emptied;
    another action gets the next id."""
    db = agent.session.db
    first = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "o-1"})
    db._cache.forget()  # as a write that changed what is cached
    again = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "o-1"})
    other = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "o-2"})
    assert first.decision == again.decision == other.decision == "needs_approval"
    assert (first.approval_id, again.approval_id, other.approval_id) == (1, 1, 2)
    pending = agent.agents.approvals("pending")
    assert [a.id for a in pending] == [1, 2]


def _usage_file(path: Path, first: int, calls: int) -> Path:
    rows = [
        f"c-{n},2026-03-{1 + n % 28:02d}T10:00:00Z,openai,gpt-4o-mini,{100 + n},{n % 50},,USD,"
        for n in range(first, first + calls)
    ]
    path.write_text("\n".join([USAGE, *rows]) + "\n")
    return path


def test_decisions_beside_ingests_keep_one_chain_and_every_entry_once(
    agent: Ledger, ledger: Ledger, tmp_path: Path
) -> None:
    """Four agents' callers decide as long as 12 usage files of 5,000 calls each are being
    ingested: every decision and every ingest is in the log once, in one chain that
    verifies, the decisions between the ingests."""
    files = [_usage_file(tmp_path / f"calls-{n}.csv", n * 5_000, 5_000) for n in range(12)]

    def ingest_all() -> None:
        for path in files:
            ledger.costs.ingest_usage(path, "csv")

    ingesting, _ = _in_thread(ingest_all)

    def caller(number: int) -> list[str]:
        orders: list[str] = []
        while ingesting.is_alive() or len(orders) < 50:
            orders.append(f"{number}-{len(orders)}")
            assert _decide(agent, orders[-1]) == "allow"
        return orders

    with ThreadPoolExecutor(4) as pool:
        decided = [order for found in pool.map(caller, range(4)) for order in found]
    ingesting.join(120)
    entries = _log(agent)
    assert sorted(_orders(entries)) == sorted(decided)
    ingests = [n for n, e in enumerate(entries) if e.action == "ingest.usage"]
    assert len(ingests) == 12
    between = [e.action for e in entries[ingests[0] : ingests[-1]]]
    assert between.count("agent.authorize") > 12
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + len(entries)))
    assert agent.governance.audit.verify_audit().ok
    calls = ledger.session.db.one("SELECT count(*) FROM usage_events")
    assert calls == (60_000,)


def test_a_reader_of_the_head_leaves_no_older_head_than_a_decision_wrote(
    agent: Ledger, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a decision batch runs, another write commits (the cache forgets) and a reader
    reads the head from the table, the batch's entry still on its way to the journal. The
    reader's head is older than the batch's: the batch's must be the one the cache keeps,
    or the next decision takes the same sequence number, and the chain forks."""
    db = agent.session.db
    _decide(agent, "before")
    db.settle()
    reading, appended, stored = threading.Event(), threading.Event(), threading.Event()
    readers: list[threading.Thread] = []
    append, get_meta, store = Journal.append, Database.get_meta, ReadCache.store

    def slow_read(self: Database, key: str) -> str | None:
        if threading.current_thread() in readers:
            reading.set()
            assert appended.wait(10)
        return get_meta(self, key)

    def kept(self: ReadCache, key: object, value: object, *read_in: Any) -> None:
        store(self, key, value, *read_in)
        if threading.current_thread() in readers:
            stored.set()

    def interleaved(self: Journal, batch: object) -> None:
        monkeypatch.setattr(Journal, "append", append)
        other = threading.Thread(target=lambda: ledger.session.db.set_meta("elsewhere", "1"))
        other.start()
        other.join()
        readers.append(threading.Thread(target=lambda: AuditStore(db).head()))
        readers[0].start()
        assert reading.wait(10)
        append(self, batch)
        appended.set()
        assert stored.wait(10)

    monkeypatch.setattr(Database, "get_meta", slow_read)
    monkeypatch.setattr(ReadCache, "store", kept)
    monkeypatch.setattr(Journal, "append", interleaved)
    _decide(agent, "during")
    readers[0].join(10)
    monkeypatch.undo()
    _decide(agent, "after")
    assert agent.governance.audit.verify_audit().ok
    assert _orders(_log(agent)) == ["before", "during", "after"]


def test_a_move_while_a_decision_reads_the_requests_loses_none_and_repeats_none(
    agent: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision reads the pending requests from the journal and the table; a move lands
    the journal's in the table between the two reads. The request asked again is found, and
    the next one takes the next id."""
    db = agent.session.db
    assert _ask(agent, "o-1").approval_id == 1  # in the journal
    db._cache.forget()  # as a write that changed what is cached
    held = Database.journal_approvals

    def moved_meanwhile(self: Database) -> list[dict[str, object]]:
        found = held(self)
        mover = threading.Thread(target=self.settle)  # as the journal's mover may
        mover.start()
        mover.join()
        return found

    monkeypatch.setattr(Database, "journal_approvals", moved_meanwhile)
    again, other = _ask(agent, "o-1"), _ask(agent, "o-2")
    monkeypatch.undo()
    assert (again.approval_id, other.approval_id) == (1, 2)
    assert [a.id for a in agent.agents.approvals("pending")] == [1, 2]
    assert agent.governance.audit.verify_audit().ok


@pytest.fixture
def moving_often(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Journal, "MOVE_EVERY", 0.005)
    monkeypatch.setattr(Journal, "MOVE_AT", 8)
    yield


@pytest.mark.usefixtures("moving_often")
def test_decisions_beside_writes_failures_readers_and_moves(agent: Ledger, ledger: Ledger) -> None:
    """Six callers decide 200 times each (every fourth action needs approval, and is asked
    twice), while writes append to the chain, every third one fails after its entry, a write
    commits outside the chain, readers read the head and the requests, and the journal moves
    every 5 ms: every decision once, one chain, one request for each pending action and one
    action for each request."""
    db, stop = agent.session.db, threading.Event()
    errors: list[BaseException] = []

    def until_stopped(work: Callable[[int], None]) -> Callable[[], None]:
        def run() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    work(n)
                except BaseException as failed:
                    errors.append(failed)
                    return

        return run

    def write(n: int) -> None:
        with db.transaction():
            ledger.session.record("test.write", "test", f"w{n}", None, {"n": n})
        if n % 3 == 0:
            with pytest.raises(ValuegapError), db.transaction():
                ledger.session.record("test.failed", "test", f"f{n}", None, {"n": n})
                raise ValuegapError("the write is refused")
        db.set_meta("elsewhere", str(n))  # a commit that does not hold the chain

    def read(n: int) -> None:
        AuditStore(db).head()
        agent.agents.approvals("pending")

    def caller(number: int) -> list[tuple[str, str, int | None]]:
        answers = []
        for n in range(200):
            order, amount = (f"{number}-{n // 8}", "350") if n % 4 == 0 else (f"{number}-{n}", "10")
            made = _ask(agent, order, amount)
            answers.append((order, made.decision, made.approval_id))
        return answers

    others = [threading.Thread(target=until_stopped(each)) for each in (write, read)]
    for thread in others:
        thread.start()
    with ThreadPoolExecutor(6) as pool:
        answers = [a for found in pool.map(caller, range(6)) for a in found]
    stop.set()
    for thread in others:
        thread.join(60)
    assert errors == []
    assert agent.governance.audit.verify_audit().ok
    entries = _log(agent)
    assert sorted(_orders(entries)) == sorted(order for order, _, _ in answers)
    assert "test.failed" not in {e.action for e in entries}
    requests: dict[str, set[int | None]] = {}
    actions: dict[int | None, set[str]] = {}
    for order, decision, approval in answers:
        if decision == "needs_approval":
            requests.setdefault(order, set()).add(approval)
            actions.setdefault(approval, set()).add(order)
    assert all(len(ids) == 1 for ids in requests.values())
    assert all(len(orders) == 1 for orders in actions.values())
    assert len(agent.agents.approvals("pending")) == len(actions) == 6 * 25


def test_a_move_that_cannot_connect_leaves_its_batches_waiting(agent: Ledger) -> None:
    """A move whose connection fails (a read through a handle closed meanwhile) takes
    nothing from the journal: the decisions land with the next move, in order."""
    db = agent.session.db
    other = Database.open(db.path, create=False)  # shares the file's writer and journal
    other.close()
    _decide(agent, "a")
    with pytest.raises(duckdb.Error):
        other.settle()
    _decide(agent, "b")
    db.settle()
    assert _orders(_log(agent)) == ["a", "b"]
    assert agent.governance.audit.verify_audit().ok


def test_a_write_that_reads_the_head_holds_it_until_it_commits(agent: Ledger) -> None:
    """A write that reads the chain's head (and appends nothing) holds the chain until it
    commits: a decision meanwhile waits, and the head the write read is not put back in the
    cache over the decision's."""
    db = agent.session.db
    _decide(agent, "before")
    db.settle()  # nothing waits in the journal

    def read_the_head() -> None:
        db.execute("INSERT INTO ledger_meta (key, value) VALUES ('a-write', 'x')")
        AuditStore(db).head()

    _decided_while_a_write_holds_the_chain(agent, read_the_head, "during")
    _decide(agent, "after")
    assert _orders(_log(agent)) == ["before", "during", "after"]
    assert agent.governance.audit.verify_audit().ok


@pytest.mark.parametrize("meanwhile", ["a decision", "an audited write"])
def test_a_reader_of_the_head_that_stores_after_a_newer_head_committed_does_not_keep_its_own(
    agent: Ledger, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    """A reader reads the head, and stores it only after a decision batch (which keeps its
    new head in the journal) or a write (whose head moves with a statement that keeps the
    cache) committed a newer one: neither wrote a table the cache heard of, but the older head
    must not be kept, or the next decision reuses a sequence number and the chain forks."""
    db = agent.session.db
    _decide(agent, "before")
    db.settle()
    ledger.session.db.set_meta("elsewhere", "1")  # the head is read again from ledger_meta
    read, go_on = threading.Event(), threading.Event()
    readers: list[threading.Thread] = []
    get_meta = Database.get_meta

    def slow_read(self: Database, key: str) -> str | None:
        value = get_meta(self, key)
        if threading.current_thread() in readers:
            read.set()
            assert go_on.wait(10)
        return value

    monkeypatch.setattr(Database, "get_meta", slow_read)
    readers.append(threading.Thread(target=lambda: AuditStore(db).head()))
    readers[0].start()
    assert read.wait(10)
    if meanwhile == "a decision":
        _decide(agent, "during")
    else:
        ledger.governance.users.add_user("bob", "contributor", ["service"])
    go_on.set()
    readers[0].join(10)
    monkeypatch.undo()
    _decide(agent, "after")
    db.settle()
    assert agent.governance.audit.verify_audit().ok


class _InterruptedOnce:
    """The chain's lock, whose first ``acquire`` is interrupted (Ctrl-C while it waits)."""

    def __init__(self, lock: Any) -> None:
        self.lock, self.interrupted = lock, False

    def acquire(self) -> bool:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return bool(self.lock.acquire())

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> Any:
        return self.lock.__enter__()

    def __exit__(self, *exc: object) -> Any:
        return self.lock.__exit__(*exc)


def test_a_write_interrupted_while_it_waits_for_the_chain_loses_no_decision(
    agent: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write whose wait for the chain is interrupted (Ctrl-C) rolls back; the decisions the
    journal held then land once, in order, and the chain has no gap (a write that took them
    from the journal before that wait would have to give them back)."""
    db = agent.session.db
    monkeypatch.setattr(db._writer, "chain", _InterruptedOnce(db._writer.chain))
    with pytest.raises(KeyboardInterrupt), db.transaction():
        db.execute("INSERT INTO ledger_meta (key, value) VALUES ('a-write', 'in progress')")
        for n in range(3):
            thread, _ = _in_thread(partial(_decide, agent, f"while-writing-{n}"))
            thread.join(30)
        agent.session.record("test.write", "test", "w", None, {"written": True})
    _decide(agent, "after")
    db.settle()
    assert not db._writer.journal.holds
    entries = _log(agent)
    assert _orders(entries) == [f"while-writing-{n}" for n in range(3)] + ["after"]
    assert "test.write" not in [e.action for e in entries]
    assert agent.governance.audit.verify_audit().ok

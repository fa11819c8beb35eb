"""Agents' decisions beside writes: a decision does not wait for a write in progress (an
ingest, the OTLP drain), only for the commit of a write that appends to the audit chain; the
chain stays one order, in which a decision made while a write was open comes before it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import ValuegapError
from valuegap.model.audit import AuditEntry

USAGE = "event_id,timestamp,provider,model,input_tokens,output_tokens,cost,currency,initiative"


def _decide(agent: Ledger, order: str, amount: str = "45.90") -> str:
    made = agent.agents.authorize("refunds", "issue_refund", Decimal(amount), {"order": order})
    return made.decision


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


def test_a_decision_waits_for_the_commit_of_a_write_that_appended_to_the_chain(
    agent: Ledger,
) -> None:
    """From a write's first audit entry to its commit the chain is the write's: a decision
    asked meanwhile is answered after the commit, on what it committed, and follows it."""
    db = agent.session.db
    recorded, commit = threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction():
            agent.session.record("test.write", "test", "w", None, {"written": True})
            recorded.set()
            assert commit.wait(30)

    writer, _ = _in_thread(write)
    assert recorded.wait(30)
    decider, answer = _in_thread(lambda: _decide(agent, "after-the-write"))
    decider.join(0.5)
    assert decider.is_alive() and not answer, "decided while the write held the chain"
    commit.set()
    writer.join(30)
    decider.join(30)
    assert answer == ["allow"]
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
    db._cache.committed(forget=True, learned={})  # as a write that changed what is cached
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
    """Four agents' callers decide 400 times while 12 usage files of 5,000 calls each are
    ingested: every decision and every ingest is in the log once, in one chain that
    verifies, the decisions between the ingests."""
    files = [_usage_file(tmp_path / f"calls-{n}.csv", n * 5_000, 5_000) for n in range(12)]

    def ingest_all() -> None:
        for path in files:
            ledger.costs.ingest_usage(path, "csv")

    def caller(number: int) -> list[str]:
        return [_decide(agent, f"{number}-{n}") for n in range(100)]

    ingesting, _ = _in_thread(ingest_all)
    with ThreadPoolExecutor(4) as pool:
        answers = [a for found in pool.map(caller, range(4)) for a in found]
    ingesting.join(120)
    assert answers == ["allow"] * 400
    entries = _log(agent)
    assert sorted(_orders(entries)) == sorted(f"{t}-{n}" for t in range(4) for n in range(100))
    ingests = [n for n, e in enumerate(entries) if e.action == "ingest.usage"]
    assert len(ingests) == 12
    assert "agent.authorize" in {e.action for e in entries[ingests[0] : ingests[-1]]}
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + len(entries)))
    assert agent.governance.audit.verify_audit().ok
    calls = ledger.session.db.one("SELECT count(*) FROM usage_events")
    assert calls == (60_000,)

"""What a decision reads comes from the small-read cache: an agent's decision, which writes
only its audit entry, leaves the cache as it was; a policy change empties it, so that every
decision made after the change, on any thread, is made under the new policy."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.store.database import Database

DENY_ALL = """\
layer: initiative
scope: refunds
rules:
  - id: refunds-paused
    when: {action: issue_refund}
    expr: "false"
    effect: deny
    message: Refunds are paused.
"""


def _ask(agent: Ledger, order: str) -> Any:
    return agent.agents.authorize("refunds", "issue_refund", Decimal("45.90"), {"order_id": order})


def test_a_decision_reads_nothing_from_the_file_once_warm(
    agent: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ask(agent, "warm-up")  # reads users, policies, the initiative, the audit head
    reads: list[str] = []
    for name in ("all", "one"):
        read = getattr(Database, name)

        def counted(self: Database, sql: str, *args: Any, _read: Any = read) -> Any:
            reads.append(sql)
            return _read(self, sql, *args)

        monkeypatch.setattr(Database, name, counted)
    for call in range(5):
        assert _ask(agent, f"A-{call}").decision == "allow"
    assert reads == []  # each commit of an audit entry kept the cache
    assert agent.governance.audit.verify_audit().ok


def test_decisions_after_a_policy_change_see_it_on_every_thread(
    ledger: Ledger, agent: Ledger
) -> None:
    deciding = threading.Event()
    changed = threading.Event()
    stop = threading.Event()
    late: list[tuple[str, dict[str, int]]] = []  # decisions that began after the change
    errors: list[BaseException] = []

    def caller(number: int) -> None:
        try:
            call = 0
            while not stop.is_set():
                after_change = changed.is_set()
                decision = _ask(agent, f"{number}-{call}")
                if after_change:
                    late.append((decision.decision, decision.policy_versions))
                deciding.set()
                call += 1
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    assert deciding.wait(60)
    ledger.governance.apply_policy(DENY_ALL, "paused.yaml")
    changed.set()
    while len(late) < 40 and not errors:
        stop.wait(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert late
    assert {decision for decision, _ in late} == {"deny"}
    assert all(versions.get("initiative/refunds") == 1 for _, versions in late)
    assert ledger.governance.audit.verify_audit().ok

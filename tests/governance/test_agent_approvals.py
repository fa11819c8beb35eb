"""An agent's action that needs approval: a pending request, asked once, decided by a person
of the governance role, and in the audit log."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, PolicyViolation, ValidationError
from valuegap.governance.agents import AgentDecision
from valuegap.store.governance import AskedApproval, GovernanceStore


def test_an_action_above_the_threshold_is_a_pending_request(agent: Ledger) -> None:
    # the fixture's agent may refund up to 200 USD on its own
    small = agent.agents.authorize("refunds", "issue_refund", Decimal("120"))
    assert (small.decision, small.approval_id) == ("allow", None)
    asked = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "A-1"})
    assert asked.decision == "needs_approval" and asked.approval_id == 1
    again = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "A-1"})
    assert again.approval_id == 1
    other = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "A-2"})
    assert other.approval_id == 2
    request = agent.agents.approval("refunds", 1)
    assert (request.status, request.amount, request.context, request.requested_by) == (
        "pending",
        Decimal("350"),
        {"order": "A-1"},
        "svc",
    )


def test_a_person_decides_and_the_log_proves_it(agent: Ledger, ledger: Ledger) -> None:
    agent.agents.authorize("refunds", "issue_refund", Decimal("350"))
    ledger.governance.users.add_user("gina", "governance")
    with pytest.raises(PermissionDenied):
        agent.agents.approve_action("refunds", 1)
    gina = ledger.acting_as("gina")
    with pytest.raises(ValidationError):
        gina.agents.reject_action("refunds", 1, " ")
    decided = gina.agents.approve_action("refunds", 1, "Known customer.")
    assert (decided.status, decided.decided_by) == ("approved", "gina")
    assert agent.agents.approval("refunds", 1).status == "approved"
    with pytest.raises(ValidationError, match="already approved"):
        gina.agents.reject_action("refunds", 1, "Too late.")
    with pytest.raises(NotFound):
        agent.agents.approval("refunds", 2)
    actions = [e.action for e in ledger.governance.audit.audit_log(entity_id="refunds")]
    assert actions[:2] == ["agent.approval.approve", "agent.authorize"]
    assert ledger.governance.audit.verify_audit().ok


def test_whoever_asked_does_not_decide(agent: Ledger, ledger: Ledger) -> None:
    ledger.governance.users.add_user("gina", "governance")
    gina = ledger.acting_as("gina")
    asked = gina.agents.authorize("refunds", "issue_refund", Decimal("500"))
    assert asked.approval_id is not None
    with pytest.raises(PolicyViolation):
        gina.agents.approve_action("refunds", asked.approval_id)
    assert [a.id for a in ledger.agents.approvals("pending")] == [asked.approval_id]


def test_a_contributor_lists_only_their_units_agents_requests(
    agent: Ledger, ledger: Ledger
) -> None:
    agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "A-1"})
    ledger.governance.users.add_user("mia", "contributor", ["marketing"])
    ledger.governance.users.add_user("gina", "governance")
    assert ledger.acting_as("mia").agents.approvals() == []
    assert ledger.acting_as("mia").agents.approvals("pending") == []
    assert [r.id for r in agent.agents.approvals()] == [1]
    assert [r.id for r in ledger.acting_as("gina").agents.approvals()] == [1]
    with pytest.raises(NotFound):
        ledger.acting_as("mia").agents.approval("refunds", 1)


def test_an_amount_with_an_exponent_is_stored_as_its_value(agent: Ledger) -> None:
    asked = agent.agents.authorize("refunds", "issue_refund", Decimal("1E+3"))
    assert agent.agents.approval("refunds", asked.approval_id or 0).amount == Decimal("1000")


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("250.123456789049", "250.1234567890"),  # 11th place 4: down
        ("250.00000000005", "250.0000000001"),  # half: up, as DuckDB's cast rounds
        ("123456789012345678901234567.5", "123456789012345678901234567.5"),
    ],
)
def test_a_request_records_its_amount_as_its_column_keeps_it(
    agent: Ledger, amount: str, stored: str
) -> None:
    """The request's row in its decision's audit entry is made without reading it back: its
    amount is rounded to the column's 10 places as DuckDB would, so replay finds the row the
    entry says (an amount of 27 digits before the point included)."""
    asked = agent.agents.authorize("refunds", "issue_refund", Decimal(amount))
    assert asked.decision == "needs_approval"
    assert agent.agents.approval("refunds", asked.approval_id or 0).amount == Decimal(stored)
    verification = agent.governance.audit.verify_audit()
    assert verification.ok and verification.proven_from == 1, verification.message


# Requests asked together: one group-commit batch.


def _in_one_batch(
    agent: Ledger, monkeypatch: pytest.MonkeyPatch, asks: list[tuple[str, str]]
) -> tuple[list[AgentDecision], list[int]]:
    """Each (amount, order) asked from its own thread, all of them queued behind one decision
    in flight, so that they are written as one batch; the answers in the order of ``asks``,
    and the sizes of the batches of requests the store was asked for."""
    batches: list[int] = []
    ask_all = GovernanceStore.ask_agent_approvals

    def spy(store: GovernanceStore, asked: Sequence[AskedApproval]) -> list[dict[str, Any]]:
        batches.append(len(asked))
        return ask_all(store, asked)

    monkeypatch.setattr(GovernanceStore, "ask_agent_approvals", spy)
    db, answers = agent.session.db, {}

    def ask(index: int, amount: str, order: str) -> None:
        answers[index] = agent.agents.authorize(
            "refunds", "issue_refund", Decimal(amount), {"order": order}
        )

    threads = [threading.Thread(target=ask, args=(-1, "45.90", "first"))]  # leads alone
    threads += [threading.Thread(target=ask, args=(i, *each)) for i, each in enumerate(asks)]
    with db._writer.chain:  # the first decision waits for the chain; the others queue behind it
        threads[0].start()
        _wait_until(lambda: db._writer.journaled._leading and not db._writer.journaled._queue)
        for thread in threads[1:]:
            thread.start()
        _wait_until(lambda: len(db._writer.journaled._queue) == len(asks))
    for thread in threads:
        thread.join()
    return [answers[i] for i in range(len(asks))], batches


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition()


def _entries(ledger: Ledger) -> dict[int, list[dict[str, Any]]]:
    """The decisions' audit entries that name a request, by request: their ``after``, and
    the request's row their state keeps."""
    found: dict[int, list[dict[str, Any]]] = {}
    for entry in ledger.governance.audit.audit_log(entity_id="refunds"):
        after = json.loads(entry.after or "{}")
        if entry.action == "agent.authorize" and "approval" in after:
            (kept,) = json.loads(entry.state or "{}")["rows"]
            found.setdefault(after["approval"], []).append({**after, "kept": kept})
    return found


def test_two_equal_requests_in_one_batch_are_one_request(
    agent: Ledger, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"order": "A-0"})
    assert earlier.approval_id == 1
    asks = [("350", "A-1"), ("350", "A-0"), ("350", "A-1"), ("350.00", "A-1"), ("400", "A-1")]
    answers, batches = _in_one_batch(agent, monkeypatch, asks)
    assert batches == [len(asks)]
    ids: dict[tuple[Decimal, str], set[int | None]] = {(Decimal(a), o): set() for a, o in asks}
    for (amount, order), answer in zip(asks, answers, strict=True):
        ids[Decimal(amount), order].add(answer.approval_id)
    # 350 for A-1 asked three times (350.00 is 350): one new request; A-0's request is still
    # pending; 400 for A-1 is another action. The new ones in the order their callers queued.
    assert ids[Decimal(350), "A-0"] == {1}
    assert {*ids[Decimal(350), "A-1"], *ids[Decimal(400), "A-1"]} == {2, 3}
    assert all(len(found) == 1 for found in ids.values())
    pending = {(r.amount, r.context["order"]): {r.id} for r in ledger.agents.approvals("pending")}
    assert pending == ids
    entries = _entries(ledger)
    three = ids[Decimal(350), "A-1"].pop()
    assert {k: len(v) for k, v in entries.items()} == {1: 2, three: 3, 5 - three: 1}
    assert ledger.governance.audit.verify_audit().ok


def test_requests_in_one_batch_take_consecutive_ids_and_each_its_own_entry(
    agent: Ledger, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = [f"B-{n}" for n in range(8)]
    # the requests among allowed and denied decisions of the same batch
    asks = [(amount, order) for order in orders for amount in ("350", "45.90")]
    answers, batches = _in_one_batch(agent, monkeypatch, asks)
    assert batches == [8]
    asked = {
        order: a.approval_id for (_, order), a in zip(asks, answers, strict=True) if a.approval_id
    }
    assert sorted(asked.values()) == list(range(1, 9))
    requests = {r.id: r for r in ledger.agents.approvals()}
    assert {r.context["order"]: r.id for r in requests.values()} == asked
    entries = _entries(ledger)
    assert sorted(entries) == list(range(1, 9))
    for approval_id, (entry,) in entries.items():
        order = requests[approval_id].context["order"]
        assert (entry["context"], entry["decision"]) == ({"order": order}, "needs_approval")
        assert entry["kept"]["where"] == {"id": approval_id}
        (row,) = entry["kept"]["rows"]
        assert (row["id"], row["context"], row["amount"], row["status"]) == (
            approval_id,
            json.dumps({"order": order}),
            "350",
            "pending",
        )
    assert ledger.governance.audit.verify_audit().ok


def test_sixteen_callers_asking_again_and_again_keep_one_request_each_and_the_chain(
    agent: Ledger, ledger: Ledger
) -> None:
    """Each caller asks for 10 orders of its own, each three times, among 15 orders that
    every caller asks for once (as other agents' calls would): 16 x 45 decisions."""
    before = ledger.governance.audit.verify_audit().entries

    def caller(number: int) -> list[tuple[str, int | None]]:
        own = [f"C{number}-{n}" for n in range(10)]
        asks = own * 3 + [f"shared-{n}" for n in range(15)]
        random.Random(number).shuffle(asks)
        return [
            (
                order,
                agent.agents.authorize(
                    "refunds", "issue_refund", Decimal("350"), {"order": order}
                ).approval_id,
            )
            for order in asks
        ]

    with ThreadPoolExecutor(16) as pool:
        answers = [answer for each in pool.map(caller, range(16)) for answer in each]
    ids: dict[str, set[int | None]] = {}
    for order, approval_id in answers:
        ids.setdefault(order, set()).add(approval_id)
    assert len(ids) == 16 * 10 + 15
    assert all(len(found) == 1 for found in ids.values())  # one request an order
    requests = ledger.agents.approvals()
    assert sorted(r.id for r in requests) == list(range(1, 16 * 10 + 15 + 1))
    assert {r.context["order"]: {r.id} for r in requests} == ids
    verified = ledger.governance.audit.verify_audit()
    assert verified.ok and verified.entries - before == 16 * 45


def test_a_decided_request_is_not_asked_again_from_memory(agent: Ledger, ledger: Ledger) -> None:
    # The pending requests are kept in the read cache between batches: a decision on one must
    # make the next ask open a new request, not answer with the decided one.
    def ask() -> AgentDecision:
        return agent.agents.authorize("refunds", "issue_refund", Decimal("350"), {"o": "1"})

    assert ask().approval_id == ask().approval_id == 1
    ledger.governance.users.add_user("gina", "governance")
    ledger.acting_as("gina").agents.reject_action("refunds", 1, "Not this one.")
    assert ask().approval_id == 2
    assert [r.id for r in agent.agents.approvals("pending")] == [2]


def test_asking_again_with_more_places_than_stored_polls_the_same_request(
    agent: Ledger, ledger: Ledger
) -> None:
    """An amount of 11 places is stored rounded to 10; asked again after a write (which empties
    the read cache, so that the pending requests are read back from the table), it is the same
    action and polls the same request, not a second one."""

    def ask() -> AgentDecision:
        amount = Decimal("250.123456789049")
        return agent.agents.authorize("refunds", "issue_refund", amount, {"o": "1"})

    first = ask().approval_id
    ledger.governance.users.add_user("gina", "governance")  # a write: the cache is emptied
    assert ask().approval_id == first
    assert [r.id for r in agent.agents.approvals("pending")] == [first]


@pytest.mark.parametrize("commit", ["transaction", "journaled"])
def test_a_batch_that_fails_leaves_no_request_in_memory(agent: Ledger, commit: str) -> None:
    # the pending requests are kept in the cache and a batch adds its own in place
    db = agent.session.db
    batch = getattr(db, commit)
    store = GovernanceStore(db)

    def asking(amount: str) -> AskedApproval:
        action = {"agent": "refunds", "action": "issue_refund", "amount": Decimal(amount)}
        return AskedApproval.of({**action, "context": {}}, [], {}, agent.session.now(), "svc")

    first, asked = asking("400"), asking("350")
    with db.transaction():  # the pending requests are cached from now on
        assert store.ask_agent_approvals([first])[0]["id"] == 1
    with pytest.raises(RuntimeError), batch():
        assert store.ask_agent_approvals([asked])[0]["id"] == 2
        raise RuntimeError("the batch failed after its INSERT")
    with db.transaction():
        assert store.ask_agent_approvals([asked])[0]["id"] == 2  # made again, not remembered
    assert [r.id for r in agent.agents.approvals("pending")] == [1, 2]

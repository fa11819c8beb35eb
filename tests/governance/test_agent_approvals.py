"""An agent's action that needs approval: a pending request, asked once, decided by a person
of the governance role, and in the audit log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, PolicyViolation, ValidationError


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

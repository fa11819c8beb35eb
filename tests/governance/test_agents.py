"""Agent guardrails: allow, deny or needs_approval, with the deciding rules, all logged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, ValidationError
from valuegap.model.portfolio import Portfolio

from ..conftest import AGENT, ready


def test_threshold_allowed_actions_and_allow(agent: Ledger) -> None:
    above = agent.agents.authorize("refunds", "issue_refund", Decimal("200.01"))
    assert (above.decision, above.rules) == ("needs_approval", ["agent-approval-threshold"])
    outside = agent.agents.authorize("refunds", "close_account", Decimal("5"))
    assert (outside.decision, outside.rules) == ("deny", ["agent-allowed-action"])
    inside = agent.agents.authorize("refunds", "issue_refund", Decimal("200.00"))
    assert inside.decision == "allow"
    assert "agent-approval-threshold" in inside.rules and "agent-allowed-action" in inside.rules

    logged = [e for e in agent.governance.audit.audit_log(limit=3)]
    assert [e.action for e in logged] == ["agent.authorize"] * 3
    assert [json.loads(e.after or "{}")["decision"] for e in logged] == [
        "allow", "deny", "needs_approval",
    ]  # fmt: skip
    assert json.loads(logged[2].after or "{}")["amount"] == "200.01"
    assert agent.governance.audit.verify_audit().ok


def test_autonomy_decides_too(ledger: Ledger, agent: Ledger) -> None:
    ledger.agents.register_agent("refunds", {**AGENT, "autonomy": "act_with_approval"})
    decision = agent.agents.authorize("refunds", "send_reply")
    assert (decision.decision, decision.rules) == ("needs_approval", ["agent-acts-with-approval"])
    ledger.agents.register_agent("refunds", {**AGENT, "autonomy": "suggest"})
    decision = agent.agents.authorize("refunds", "send_reply")
    assert (decision.decision, decision.rules) == ("deny", ["agent-suggests-only"])


def test_an_agent_before_its_mvp_or_of_high_risk_acts_only_with_approval(
    ledger: Ledger, agent: Ledger
) -> None:
    ledger.portfolio.add_initiative(ready("pilot", kind="agent", business_unit="service"))
    ledger.agents.register_agent("pilot", AGENT)
    decision = agent.agents.authorize("pilot", "send_reply")
    assert (decision.decision, decision.rules) == ("needs_approval", ["agent-live"])
    spec = ledger.portfolio.initiative("refunds").spec().model_copy(update={"risk_tier": "high"})
    ledger.portfolio.apply(Portfolio(initiatives=[spec]))
    decision = agent.agents.authorize("refunds", "send_reply")
    assert (decision.decision, decision.rules) == ("needs_approval", ["agent-high-risk-approval"])


def test_lower_layers_add_rules_that_read_the_actions_context(
    ledger: Ledger, agent: Ledger
) -> None:
    ledger.governance.apply_policy("""\
layer: initiative
scope: refunds
rules:
  - id: refunds-name-the-order
    when: {action: issue_refund}
    expr: has(action.context.order_id)
    effect: deny
    message: Name the order.
""", "refunds.yaml")  # fmt: skip
    denied = agent.agents.authorize("refunds", "issue_refund", Decimal("20"))
    assert (denied.decision, denied.rules) == ("deny", ["refunds-name-the-order"])
    assert denied.policy_versions == {"enterprise": 1, "initiative/refunds": 1}
    allowed = agent.agents.authorize("refunds", "issue_refund", Decimal("20"), {"order_id": "A-1"})
    assert allowed.decision == "allow"


def test_only_a_registered_agent_of_the_unit_is_authorised(ledger: Ledger, agent: Ledger) -> None:
    with pytest.raises(NotFound, match="There is no agent 'nobody'"):
        agent.agents.authorize("nobody", "send_reply")
    ledger.governance.users.add_user("outsider", "contributor", ["finance"])
    with pytest.raises(PermissionDenied):
        ledger.acting_as("outsider").agents.authorize("refunds", "send_reply")
    ledger.portfolio.add_initiative(ready("not-an-agent"))
    with pytest.raises(ValidationError, match="kind 'agent'"):
        ledger.agents.register_agent("not-an-agent", AGENT)
    with pytest.raises(ValidationError, match="approval_threshold needs a currency"):
        ledger.agents.register_agent("refunds", {**AGENT, "currency": None})


def test_an_amount_is_never_negative_and_an_action_without_one_is_not_about_money(
    agent: Ledger,
) -> None:
    with pytest.raises(ValidationError, match="must be a number, zero or more"):
        agent.agents.authorize("refunds", "issue_refund", Decimal("-5000"))
    assert agent.agents.authorize("refunds", "send_reply").decision == "allow"


@pytest.mark.parametrize(
    "amount",
    [
        "1E+28",  # 29 digits before the point; the column keeps 28
        "9999999999999999999999999999.99999999995",  # rounds up to 1E+28 at 10 places
    ],
)
def test_an_amount_the_ledger_cannot_keep_is_refused_naming_it(agent: Ledger, amount: str) -> None:
    """The request's amount column is DECIMAL(38, 10): a larger amount is a validation error
    on ``amount``, not a conversion error from the database, and nothing is recorded."""
    entries = len(agent.governance.audit.audit_log())
    with pytest.raises(ValidationError, match="amount: must be less than 10\\^28"):
        agent.agents.authorize("refunds", "issue_refund", Decimal(amount))
    assert len(agent.governance.audit.audit_log()) == entries
    largest = Decimal("9999999999999999999999999999.9999999999")
    kept = agent.agents.authorize("refunds", "issue_refund", largest)
    assert kept.decision == "needs_approval"
    assert agent.agents.approval("refunds", kept.approval_id or 0).amount == largest


def test_an_agents_service_account_cannot_widen_its_own_guardrails(
    ledger: Ledger, agent: Ledger
) -> None:
    ledger.governance.users.add_user("team", "contributor", ["service"])
    wider = {**AGENT, "allowed_actions": ["issue_refund", "wire_money"], "approval_threshold": None}
    with pytest.raises(PermissionDenied, match="svc may not change agent of refunds"):
        agent.agents.register_agent("refunds", wider)
    with pytest.raises(PermissionDenied, match="only the role governance or admin"):
        ledger.acting_as("team").agents.register_agent("refunds", wider)
    assert agent.agents.authorize("refunds", "wire_money").decision == "deny"
    ledger.governance.users.add_user("gina", "governance")
    ledger.acting_as("gina").agents.register_agent("refunds", wider)
    assert agent.agents.authorize("refunds", "wire_money").decision == "allow"


def test_the_agents_context_is_made_once_until_the_agent_changes(
    ledger: Ledger, agent: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The initiative's and the agent's parts of a decision's context are kept while they are
    as read: decisions from several threads do not make them again, a change does."""
    import threading
    from collections import Counter
    from collections.abc import Callable

    from valuegap.governance import context

    made: Counter[str] = Counter()
    for name in ("initiative_context", "agent_context"):
        real = getattr(context, name)

        def counted(
            *args: object, _real: Callable[..., object] = real, _name: str = name
        ) -> object:
            made[_name] += 1
            return _real(*args)

        monkeypatch.setattr(context, name, counted)
    agent.agents.authorize("refunds", "send_reply")
    made.clear()

    def decide() -> None:
        for _ in range(10):
            assert agent.agents.authorize("refunds", "send_reply").decision == "allow"

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == Counter()

    ledger.agents.register_agent("refunds", {**AGENT, "autonomy": "suggest"})
    decision = agent.agents.authorize("refunds", "send_reply")
    assert (decision.decision, decision.rules) == ("deny", ["agent-suggests-only"])
    assert made == Counter({"initiative_context": 1, "agent_context": 1})

"""Separation of duties: an agent's service account never vouches for its own initiative, and
never takes the judgements that people take (issue 14, item 9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import NotFound, PermissionDenied, ValidationError
from valuegap.governance.api import ControlStatus
from valuegap.model.portfolio import Portfolio

from ..conftest import ready

AGENT = {
    "objective": "Resolve routine refund tickets end to end.",
    "allowed_actions": ["issue_refund", "send_reply"],
    "autonomy": "autonomous",
    "approval_threshold": Decimal("200"),
    "currency": "USD",
}
DUTIES = "separation of duties"


def test_the_demo_agent_account_cannot_attest_its_own_initiatives_control(
    demo_copy: Path,
) -> None:
    # The case as found: svc.refund-agent attested human_authority for refund-agent.
    with Ledger.open(demo_copy, actor="svc.refund-agent") as agent:
        head = agent.governance.audit.audit_log(limit=1)[0].seq
        with pytest.raises(PermissionDenied) as refused:
            agent.portfolio.attest_control("refund-agent", "human_authority", "I checked myself")
        message = str(refused.value)
        assert "svc.refund-agent" in message and "refund-agent" in message
        assert DUTIES in message
        detail = agent.governance.initiative_detail("refund-agent")
        assert detail.controls["human_authority"] == ControlStatus(attested=False)
        assert agent.governance.audit.audit_log(limit=1)[0].seq == head


def test_the_demo_agent_account_cannot_retire_another_initiative(demo_copy: Path) -> None:
    # The case as found: svc.refund-agent retired emotion-monitoring (same business unit).
    with Ledger.open(demo_copy, actor="svc.refund-agent") as agent:
        with pytest.raises(PermissionDenied) as refused:
            agent.governance.gates.retire("emotion-monitoring", reason="not mine", learnings="none")
        message = str(refused.value)
        assert "svc.refund-agent" in message and "emotion-monitoring" in message
        assert DUTIES in message
        assert agent.portfolio.initiative("emotion-monitoring").stage == "proposed"


def test_the_demo_agent_account_still_asks_for_its_agents_actions(demo_copy: Path) -> None:
    with Ledger.open(demo_copy, actor="svc.refund-agent") as agent:
        answer = agent.agents.authorize(
            "refund-agent", "issue_refund", Decimal("350"), {"order_id": "NW-100517"}
        )
    assert (answer.decision, answer.rules) == ("needs_approval", ["agent-approval-threshold"])


@pytest.fixture
def two_agents(ledger: Ledger) -> Ledger:
    """Agents ``refunds`` and ``returns`` in unit ``service``, at mvp, and the use case ``faq``
    at proposed; ``svc`` acts for ``refunds`` (a contributor in ``service``), ``gov`` and
    ``fin`` are people of governance and finance."""
    for agent_id in ("refunds", "returns"):
        ledger.portfolio.add_initiative(ready(agent_id, kind="agent", business_unit="service"))
        ledger.agents.register_agent(agent_id, AGENT)
        ledger.governance.gates.advance(agent_id, "poc")
        ledger.governance.gates.advance(agent_id, "mvp")
    ledger.portfolio.add_initiative(ready("faq", business_unit="service"))
    ledger.governance.users.add_user("svc", agent="refunds")
    ledger.governance.users.add_user("gov", "governance")
    ledger.governance.users.add_user("fin", "finance")
    return ledger


def test_an_agent_account_is_a_contributor_in_its_agents_unit_by_default(
    two_agents: Ledger,
) -> None:
    [svc] = [u for u in two_agents.governance.users.users() if u.name == "svc"]
    assert (svc.role, svc.units, svc.agent) == ("contributor", ("service",), "refunds")
    entry = two_agents.governance.audit.audit_log(entity_id="svc")[0]
    assert json.loads(entry.after or "{}")["agent"] == "refunds"


def test_an_agent_account_asks_for_its_own_agent_only(two_agents: Ledger) -> None:
    svc = two_agents.acting_as("svc")
    assert svc.agents.authorize("refunds", "send_reply").decision == "allow"
    with pytest.raises(PermissionDenied, match=rf"svc .*refunds.*returns.*{DUTIES}"):
        svc.agents.authorize("returns", "send_reply")


def test_an_agent_account_may_not_change_its_own_initiative_but_may_another(
    two_agents: Ledger,
) -> None:
    svc = two_agents.acting_as("svc")
    own = two_agents.portfolio.initiative("refunds").spec()
    changed = own.model_copy(update={"kill_criteria": ["roi < -100"]})
    with pytest.raises(PermissionDenied, match=rf"svc .*refunds.*{DUTIES}"):
        svc.portfolio.apply(Portfolio(initiatives=[changed]))
    assert two_agents.portfolio.initiative("refunds").kill_criteria == own.kill_criteria
    # What its role allows elsewhere in its unit stays allowed.
    svc.portfolio.attest_control("faq", "sops_updated", "SOP v3 on the intranet")
    assert (
        two_agents.governance.initiative_detail("faq").controls["sops_updated"].attested_by == "svc"
    )


# Each judgement, taken by an agent's account whose role alone would allow it.
JUDGEMENTS: dict[str, tuple[str, Callable[[Ledger], object]]] = {
    "advance": ("governance", lambda a: a.governance.gates.advance("faq", "poc")),
    "retire": (
        "governance",
        lambda a: a.governance.gates.retire("returns", reason="r", learnings="l"),
    ),
    "approve": ("governance", lambda a: a.governance.gates.approve(1)),
    "reject": ("governance", lambda a: a.governance.gates.reject(1, "no")),
    "review": ("governance", lambda a: a.governance.run_reviews()),
    "policy": (
        "governance",
        lambda a: a.governance.apply_policy("layer: enterprise\nrules: []\n", "p"),
    ),
    "agree": ("finance", lambda a: a.portfolio.agree_metric("refunds-hours", by="Svc")),
    "add user": ("contributor", lambda a: a.governance.users.add_user("mallory", "admin")),
}


@pytest.mark.parametrize("judgement", JUDGEMENTS)
def test_an_agent_account_takes_no_judgement_whatever_its_role(
    two_agents: Ledger, judgement: str
) -> None:
    role, act = JUDGEMENTS[judgement]
    units = ["service"] if role == "contributor" else []
    two_agents.governance.users.add_user("svc2", role, units, agent="refunds")
    head = two_agents.governance.audit.audit_log(limit=1)[0].seq
    with pytest.raises(PermissionDenied) as refused:
        act(two_agents.acting_as("svc2"))
    message = str(refused.value)
    assert message.startswith("svc2 ") and "refunds" in message and DUTIES in message
    assert two_agents.governance.audit.audit_log(limit=1)[0].seq == head


def test_an_agent_account_may_not_change_allocation_rules(
    two_agents: Ledger, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: refunds-tagged\n"
        "    match: {tag.initiative: refunds}\n"
        "    initiative: refunds\n"
    )
    two_agents.governance.users.add_user("svc2", "finance", agent="refunds")
    with pytest.raises(PermissionDenied, match=rf"svc2 .*refunds.*{DUTIES}"):
        two_agents.acting_as("svc2").costs.apply_rules(rules)
    assert two_agents.acting_as("fin").costs.apply_rules(rules) == 1  # a person of finance may


def test_an_agent_account_needs_an_agent_initiative_and_is_never_admin(
    two_agents: Ledger,
) -> None:
    with pytest.raises(NotFound, match="no initiative 'nobody'"):
        two_agents.governance.users.add_user("svc2", agent="nobody")
    with pytest.raises(ValidationError, match="faq is a use_case, not an agent"):
        two_agents.governance.users.add_user("svc2", agent="faq")
    with pytest.raises(ValidationError, match="an agent's account cannot be an admin"):
        two_agents.governance.users.add_user("svc2", "admin", agent="refunds")
    with pytest.raises(ValidationError, match="role: is required"):
        two_agents.governance.users.add_user("bob")


def test_user_add_with_agent_and_user_list(ledger: Ledger, db_path: Path) -> None:
    ledger.portfolio.add_initiative(ready("refunds", kind="agent", business_unit="service"))
    ledger.close()
    runner = CliRunner()
    common = ["--db", str(db_path), "--as", "alice"]
    added = runner.invoke(app, ["user", "add", "svc.refunds", "--agent", "refunds", *common])
    assert added.exit_code == 0, added.output
    assert added.output == "svc.refunds is contributor in service, the account of agent refunds.\n"
    listed = runner.invoke(app, ["user", "list", "--format", "json", *common])
    assert {"name": "svc.refunds", "role": "contributor", "units": ["service"],
            "agent": "refunds"} in json.loads(listed.output)  # fmt: skip
    refused = runner.invoke(
        app,
        ["control", "attest", "refunds", "human_authority", "--evidence", "me",
         "--db", str(db_path), "--as", "svc.refunds"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: svc.refunds ")


def test_users_stored_before_agent_accounts_are_ordinary_accounts(db_path: Path) -> None:
    from valuegap.store import Database
    from valuegap.store.migrations import MIGRATIONS

    index = next(i for i, m in enumerate(MIGRATIONS) if "ADD COLUMN agent" in m.statements[0])
    old = Database.open(db_path, create=True, migrations=MIGRATIONS[:index])
    old.execute(
        "INSERT INTO users VALUES ('alice', 'admin', '[]', '2026-01-05', 'alice'), "
        "('svc', 'contributor', '[\"service\"]', '2026-01-05', 'alice')"
    )
    old.close()
    with Ledger.open(db_path, actor="alice") as ledger:
        assert [(u.name, u.role, u.units, u.agent) for u in ledger.governance.users.users()] == [
            ("alice", "admin", (), None),
            ("svc", "contributor", ("service",), None),
        ]

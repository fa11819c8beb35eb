"""/api/v1/agents over the demo: refund-agent (customer-service, mvp) may issue refunds up to
200 USD on its own; its service account svc.refund-agent asks; grace.okafor (governance)
decides what needs an approval."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.web.conftest import AGENT_ACCOUNT, Served, cli_json, problem

AUTHORIZE = "/api/v1/agents/refund-agent/authorize"


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    listed = served("exec.board").get("/api/v1/agents")
    assert [(a["id"], a["approval_threshold"]) for a in listed.json()] == [("refund-agent", "200")]
    assert listed.json() == cli_json(demo, "agent", "list")


def test_an_allowed_action_is_the_clis_decision(served: Served, tmp_path: Path, demo: Path) -> None:
    body = {"action": "issue_refund", "amount": "50", "context": {"order_id": "NW-1"}}
    allowed = served(AGENT_ACCOUNT).post(AUTHORIZE, json=body)
    assert allowed.status_code == 200, allowed.text
    assert (allowed.json()["decision"], allowed.json()["approval_id"]) == ("allow", None)
    copy = tmp_path / "cli.duckdb"
    shutil.copy(demo, copy)
    by_cli = cli_json(
        copy,
        "agent",
        "authorize",
        "refund-agent",
        "issue_refund",
        "--amount",
        "50",
        "--context",
        "order_id=NW-1",
        actor=AGENT_ACCOUNT,
    )
    assert allowed.json() == by_cli
    denied = served(AGENT_ACCOUNT).post(AUTHORIZE, json={"action": "close_account"})
    assert denied.status_code == 200 and denied.json()["decision"] == "deny"


def test_an_action_above_the_threshold_waits_for_a_person(served: Served) -> None:
    agent = served(AGENT_ACCOUNT)
    body = {"action": "issue_refund", "amount": "450", "context": {"order_id": "NW-2"}}
    asked = agent.post(AUTHORIZE, json=body)
    assert asked.json()["decision"] == "needs_approval", asked.text
    approval = asked.json()["approval_id"]
    poll = f"/api/v1/agents/refund-agent/approvals/{approval}"
    assert asked.headers["location"] == poll
    assert agent.post(AUTHORIZE, json=body).json()["approval_id"] == approval  # the same one
    pending = agent.get(poll).json()
    assert (pending["status"], pending["amount"], pending["requested_by"]) == (
        "pending",
        "450",
        AGENT_ACCOUNT,
    )
    problem(agent.post(f"{poll}/approve", json={}), 403)
    problem(served("grace.okafor").post(f"{poll}/reject", json={}), 422)  # no note
    approved = served("grace.okafor").post(f"{poll}/approve", json={"note": "Known customer."})
    assert approved.status_code == 200, approved.text
    now = agent.get(poll).json()
    assert (now["status"], now["decided_by"], now["note"]) == (
        "approved",
        "grace.okafor",
        "Known customer.",
    )
    problem(served("grace.okafor").post(f"{poll}/approve", json={}), 422)  # decided already
    actions = [e.action for e in served.ledger.governance.audit.audit_log(entity_id="refund-agent")]
    assert actions[:3] == ["agent.approval.approve", "agent.authorize", "agent.authorize"]
    assert served.ledger.governance.audit.verify_audit().ok


def test_a_rejection_and_who_may_see_it(served: Served) -> None:
    asked = served(AGENT_ACCOUNT).post(
        AUTHORIZE, json={"action": "issue_refund", "amount": 900, "context": {"order_id": "NW-3"}}
    )
    poll = f"/api/v1/agents/refund-agent/approvals/{asked.json()['approval_id']}"
    rejected = served("grace.okafor").post(f"{poll}/reject", json={"note": "Above policy."})
    assert rejected.json()["status"] == "rejected"
    assert served("omar.haddad").get(poll).json()["status"] == "rejected"
    problem(served("ana.costa").get(poll), 404)  # marketing does not see customer-service's
    problem(served().get("/api/v1/agents/refund-agent/approvals/999"), 404)
    listed = served().get("/api/v1/agents/approvals", params={"status": "rejected"}).json()
    assert [a["note"] for a in listed] == ["Above policy."]
    assert served("omar.haddad").get("/api/v1/agents/approvals").json() != []
    assert served("ana.costa").get("/api/v1/agents/approvals").json() == []


def test_who_may_ask(served: Served) -> None:
    problem(served.anonymous.post(AUTHORIZE, json={"action": "issue_refund"}), 401)
    problem(served("exec.board").post(AUTHORIZE, json={"action": "issue_refund"}), 403)
    problem(served("ana.costa").post(AUTHORIZE, json={"action": "issue_refund"}), 403)
    problem(served().post("/api/v1/agents/loc-qa/authorize", json={"action": "x"}), 404)
    problem(served().post(AUTHORIZE, json={"amount": "5"}), 422)
    negative = served().post(AUTHORIZE, json={"action": "issue_refund", "amount": "-5"})
    assert problem(negative, 422)["errors"][0]["where"] == "amount"

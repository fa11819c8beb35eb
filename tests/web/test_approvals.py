"""/api/v1/approvals over the demo: approval 1 is lena.fischer's request to move
fraud-detection (risk, high tier) from poc to mvp, pending the risk committee's approval."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import Served, cli_json, problem


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    listed = served("exec.board").get("/api/v1/approvals", params={"status": "pending"})
    assert [(a["id"], a["initiative"], a["to_stage"], a["rules"]) for a in listed.json()] == [
        (1, "fraud-detection", "mvp", ["risk-high-tier-mvp-approval"])
    ]
    assert listed.json() == cli_json(demo, "approval", "list", "--status", "pending")
    problem(served().get("/api/v1/approvals", params={"status": "maybe"}), 422)
    problem(served.anonymous.get("/api/v1/approvals"), 401)


def test_governance_approves_and_the_initiative_moves(served: Served) -> None:
    problem(served("omar.haddad").post("/api/v1/approvals/1/approve", json={}), 403)
    approved = served("grace.okafor").post("/api/v1/approvals/1/approve", json={"note": "Ok."})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["from_stage"], approved.json()["to_stage"]) == ("poc", "mvp")
    assert approved.json()["approval_id"] == 1
    assert served().get("/api/v1/initiatives/fraud-detection").json()["stage"] == "mvp"
    problem(served("grace.okafor").post("/api/v1/approvals/1/approve", json={}), 422)
    problem(served("grace.okafor").post("/api/v1/approvals/99/approve", json={}), 404)


def test_a_rejection_says_why(served: Served) -> None:
    problem(served("grace.okafor").post("/api/v1/approvals/1/reject", json={}), 422)
    rejected = served("grace.okafor").post(
        "/api/v1/approvals/1/reject", json={"note": "Bias evaluation missing."}
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == (
        "rejected",
        "grace.okafor",
    )
    assert served().get("/api/v1/initiatives/fraud-detection").json()["stage"] == "poc"

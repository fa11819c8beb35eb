"""The governance page: pending approvals decided by the governance role through htmx, under
the same permission as the API's; a viewer sees no button and is refused if it posts anyway."""

from __future__ import annotations

import re

from markupsafe import escape

from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in

APPROVE = "/governance/approvals/1/approve"  # the demo's one pending request: fraud-detection


def pending(served: Served) -> list[int]:
    approvals = served("exec.board").get("/api/v1/approvals?status=pending").json()
    return [a["id"] for a in approvals]


def test_the_governance_role_sees_the_buttons_and_a_viewer_does_not(served: Served) -> None:
    grace = signed_in(served, "grace.okafor").get("/governance").text
    viewer = signed_in(served, "exec.board").get("/governance").text
    assert figures(grace)["pending-approvals"] == str(len(pending(served))) == "1"
    assert 'data-testid="approve-1"' in grace and 'data-testid="reject-1"' in grace
    assert "approve-1" not in viewer and "reject-1" not in viewer
    assert figures(viewer)["pending-approvals"] == "1"
    assert "fraud-detection" in viewer and "risk-high-tier-mvp-approval" in viewer


def test_a_viewer_who_posts_anyway_is_refused(served: Served) -> None:
    answer = signed_in(served, "exec.board").post(APPROVE, data={"note": "looks fine"})
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        "exec.board (viewer) may not approve or reject stage moves; this needs the role "
        "governance or admin."
    )
    assert pending(served) == [1]


def test_a_post_without_the_sessions_csrf_token_is_refused(served: Served) -> None:
    grace = signed_in(served, "grace.okafor")
    del grace.headers["X-CSRF-Token"]
    assert grace.post(APPROVE).status_code == 403
    assert pending(served) == [1]


def test_approving_moves_the_initiative_and_answers_with_the_panel(served: Served) -> None:
    answer = signed_in(served, "grace.okafor").post(APPROVE, data={"note": "risk committee ok"})
    assert answer.status_code == 200
    assert "<html" not in answer.text  # the approvals panel alone, for htmx to swap in
    shown = figures(answer.text)
    assert shown["decision-message"] == "Approved: fraud-detection moved from poc to mvp."
    assert shown["pending-approvals"] == "0"
    assert pending(served) == []
    initiative = served("exec.board").get("/api/v1/initiatives/fraud-detection").json()
    assert initiative["stage"] == "mvp"
    decided = served("exec.board").get("/api/v1/approvals?status=approved").json()
    assert [(a["id"], a["decided_by"], a["note"]) for a in decided] == [
        (1, "grace.okafor", "risk committee ok")
    ]


def test_a_rejection_needs_a_note(served: Served) -> None:
    grace = signed_in(served, "grace.okafor")
    refused = grace.post("/governance/approvals/1/reject", data={"note": " "})
    assert refused.status_code == 200
    error = figures(refused.text)["decision-error"]
    assert "note: say why, so that the team can act on it" in error
    assert pending(served) == [1]
    rejected = grace.post("/governance/approvals/1/reject", data={"note": "no model card yet"})
    assert figures(rejected.text)["decision-message"] == "Rejected: fraud-detection stays poc."
    assert pending(served) == []
    page = grace.get("/governance").text
    assert "no model card yet" in page  # among the recent decisions


def test_reviews_and_the_policy_pack(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/governance").text
    for review in served("exec.board").get("/api/v1/reviews").json():
        assert escape(review["reasons"][0]) in page
    policies = served("exec.board").get("/api/v1/policies").json()
    assert page.count("<details>") == len(policies)
    for policy in policies:
        rules = len(policy["rules"])
        assert f"version {policy['version']}, {rules} rule{'' if rules == 1 else 's'}" in page
    # product-recs entered its MVP on the demo's timeline; its review is six months later
    detail = served("exec.board").get("/api/v1/initiatives/product-recs").json()
    assert detail["review_date"] in page


def test_a_policy_of_one_rule_says_one_rule(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/governance").text
    assert " 1 rules" not in page
    assert re.search(r"version \d+, 1 rule\b", page)

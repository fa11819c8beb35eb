"""The governance page: pending approvals decided by the governance role through htmx, under
the same permission as the API's; a viewer sees no button and is refused if it posts anyway."""

from __future__ import annotations

import re
from typing import Any

import pytest
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


def test_reviews_due_are_read_at_once_and_recent_ones_limited(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each initiative's next review is what ``next_review`` says, for them all in a query or
    few, not three for each of the demo's nine initiatives."""
    from valuegap.store.database import Database
    from valuegap.web.pages.governance import reviews_due

    ledger = served.ledger
    today = ledger.session.now().date()
    asked: list[str] = []
    for method in ("all", "one"):
        original = getattr(Database, method)

        def counted(self: Database, sql: str, *args: Any, _original: Any = original) -> Any:
            asked.append(sql)
            return _original(self, sql, *args)

        monkeypatch.setattr(Database, method, counted)
    due = reviews_due(ledger, today)  # first: nothing of it kept yet
    monkeypatch.undo()
    one_by_one = {i.id: ledger.governance.next_review(i.id) for i in ledger.portfolio.initiatives()}
    assert {r.initiative: r.due for r in due} == {k: v for k, v in one_by_one.items() if v}
    assert len(asked) < len(one_by_one) == 9, asked  # not a query (or three) for each
    latest = sorted(ledger.governance.reviews(), key=lambda r: r.recorded_at, reverse=True)
    assert ledger.governance.recent_reviews(2) == latest[:2]
    decided = [a for a in ledger.governance.gates.approvals() if a.status != "pending"]
    decided.sort(key=lambda a: (a.decided_at or a.requested_at, a.id), reverse=True)
    assert ledger.governance.gates.decided(1) == decided[:1]


def test_a_policy_of_one_rule_says_one_rule(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/governance").text
    assert " 1 rules" not in page
    assert re.search(r"version \d+, 1 rule\b", page)

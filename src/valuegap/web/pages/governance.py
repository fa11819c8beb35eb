"""The governance page: the approvals that stage gates ask for (approved or rejected here by
the governance role), the reviews due, recent decisions, and the policy pack in force.

Approving and rejecting are htmx posts to this page's routes, guarded as the API's
``/approvals`` routes are (``acting("approval.decide")``, which for a browser also checks the
session's CSRF token): a role without the permission sees no button, and is refused (403) if
it posts anyway. The answer is the approvals panel again, saying what the decision did."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from valuegap.errors import ValuegapError
from valuegap.governance.api import PolicyVersion
from valuegap.governance.policy import Policy
from valuegap.ledger import Ledger
from valuegap.records import record
from valuegap.web.auth import acting
from valuegap.web.pages.common import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)

RECENT = 10  # decisions and reviews shown


@record
class ReviewDue:
    initiative: str
    name: str
    stage: str
    due: date
    overdue: bool


@record
class PolicyInForce:
    version: PolicyVersion
    policy: Policy | None


def reviews_due(ledger: Ledger, today: date) -> list[ReviewDue]:
    """Every initiative with a next review, soonest first (those past due are overdue)."""
    due = ledger.governance.next_reviews()
    found = [
        ReviewDue(i.id, i.name, i.stage, due[i.id], due[i.id] <= today)
        for i in ledger.portfolio.initiatives()
        if i.id in due
    ]
    return sorted(found, key=lambda r: (r.due, r.initiative))


def policy_pack(ledger: Ledger) -> list[PolicyInForce]:
    """The versions in force, each with its rules."""
    rules = {(p.layer, p.scope): p for p in ledger.governance.policies()}
    return [
        PolicyInForce(version, rules.get((version.layer, version.scope)))
        for version in ledger.governance.policies_in_force()
    ]


def _approvals_panel(
    request: Request, viewer: Viewer, message: str | None = None, error: str | None = None
) -> HTMLResponse:
    context = {
        "pending": viewer.ledger.governance.gates.approvals("pending"),
        "may_decide": viewer.may("approval.decide"),
        "message": message,
        "error": error,
    }
    return render(request, viewer, "partials/approvals.html", context)


@router.get("/governance")
def governance_page(request: Request, viewer: PageViewer) -> HTMLResponse:
    ledger = viewer.ledger
    context: dict[str, Any] = {
        "pending": ledger.governance.gates.approvals("pending"),
        "may_decide": viewer.may("approval.decide"),
        "message": None,
        "error": None,
        "due": reviews_due(ledger, ledger.session.now().date()),
        "decided": ledger.governance.gates.decided(RECENT),
        "reviews": ledger.governance.recent_reviews(RECENT),
        "policies": policy_pack(ledger),
    }
    return render(request, viewer, "governance.html", context)


Decider = Annotated[Ledger, acting("approval.decide")]
Note = Annotated[str, Form(max_length=2000)]


@router.post("/governance/approvals/{approval_id}/approve")
def approve(
    request: Request, approval_id: int, viewer: PageViewer, ledger: Decider, note: Note = ""
) -> HTMLResponse:
    """Approve a pending move (as ``POST /api/v1/approvals/{id}/approve``) and make it."""
    try:
        move = ledger.governance.gates.approve(approval_id, note.strip() or None)
    except ValuegapError as refused:
        return _approvals_panel(request, viewer, error=str(refused))
    done = f"Approved: {move.initiative} moved from {move.from_stage} to {move.to_stage}."
    return _approvals_panel(request, viewer, message=done)


@router.post("/governance/approvals/{approval_id}/reject")
def reject(
    request: Request, approval_id: int, viewer: PageViewer, ledger: Decider, note: Note = ""
) -> HTMLResponse:
    """Reject a pending move, saying why (as ``POST /api/v1/approvals/{id}/reject``)."""
    try:
        found = ledger.governance.gates.reject(approval_id, note.strip())
    except ValuegapError as refused:
        return _approvals_panel(request, viewer, error=str(refused))
    done = f"Rejected: {found.initiative} stays {found.from_stage}."
    return _approvals_panel(request, viewer, message=done)

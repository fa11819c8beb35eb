"""``/api/v1/approvals``: the approvals that stage gates ask for, and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valuegap.governance.gates import Approval, StageMove
from valuegap.ledger import Ledger
from valuegap.web.answers import DENIED, ERRORS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["approvals"], responses=ERRORS)


class Approve(BaseModel):
    note: str | None = None


class Reject(BaseModel):
    note: str  # why, so that the team can act on it


@router.get("/approvals", response_model=list[Approval])
def list_approvals(
    ledger: Annotated[Ledger, acting("read")],
    status: Annotated[
        str | None, Query(description="pending | approved | rejected | withdrawn")
    ] = None,
) -> JSONResponse:
    """Approval requests for stage moves, oldest first, as `valuegap approval list --format
    json`."""
    return answer(ledger.governance.gates.approvals(status))


@router.post("/approvals/{approval_id}/approve", response_model=StageMove, responses=DENIED)
def approve(
    approval_id: int, body: Approve, ledger: Annotated[Ledger, acting("approval.decide")]
) -> JSONResponse:
    """Approve a pending stage move and make it, if its gate still only asks for the
    approval that was requested (else 409). Whoever asked cannot also approve."""
    return answer(ledger.governance.gates.approve(approval_id, body.note))


@router.post("/approvals/{approval_id}/reject", response_model=Approval, responses=DENIED)
def reject(
    approval_id: int, body: Reject, ledger: Annotated[Ledger, acting("approval.decide")]
) -> JSONResponse:
    """Reject a pending stage move, saying why: the initiative stays where it is."""
    return answer(ledger.governance.gates.reject(approval_id, body.note))

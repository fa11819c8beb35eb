"""``/api/v1/initiatives/{id}/controls``: attesting an initiative's readiness controls."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response
from pydantic import BaseModel

from valuegap.ledger import Ledger
from valuegap.web.answers import ERRORS
from valuegap.web.auth import acting, api_router

router = api_router(tags=["initiatives"], responses=ERRORS)


class Attestation(BaseModel):
    """Where the proof that the control is in place is."""

    evidence: str


@router.put("/initiatives/{initiative_id}/controls/{control}", status_code=204)
def attest_control(
    initiative_id: str,
    control: str,
    attestation: Attestation,
    ledger: Annotated[Ledger, acting("control.attest")],
) -> Response:
    """Attest a readiness control of an initiative with its evidence (`valuegap control
    attest`); attesting again replaces the evidence. `GET /initiatives/{id}` shows the
    controls."""
    ledger.portfolio.attest_control(initiative_id, control, attestation.evidence)
    return Response(status_code=204)

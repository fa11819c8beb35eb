"""``/api/v1/initiatives``: the portfolio's initiatives: list, read one with its governance
detail, apply a portfolio document, change one (``If-Match``), move it through its gates.

A contributor sees and changes only their business units' initiatives: another unit's is not
found (404), as the ledger's own reads decide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valuegap.errors import Problem, ValidationError
from valuegap.governance.gates import GateCheck, StageMove
from valuegap.ledger import Ledger
from valuegap.model.portfolio import Initiative, InitiativeSpec
from valuegap.portfolio.api import ApplyResult, version
from valuegap.web.answers import CONFLICTS, DENIED, ERRORS, answer, expected
from valuegap.web.auth import acting, api_router

router = api_router(tags=["initiatives"], responses=ERRORS)

IfMatch = Annotated[
    str,
    Header(
        alias="If-Match",
        description="The ETag of the initiative as read: a change made since is refused (412).",
    ),
]


class Advance(BaseModel):
    """A move to the next stage."""

    to_stage: str


class Retire(BaseModel):
    """A retirement: why it stops, and what the organisation learned."""

    reason: str
    learnings: str


@router.get("/initiatives", response_model=list[Initiative])
def list_initiatives(
    ledger: Annotated[Ledger, acting("read")],
    stage: Annotated[str | None, Query(description="Only this stage.")] = None,
    business_unit: Annotated[str | None, Query(description="Only this business unit.")] = None,
) -> JSONResponse:
    """The initiatives, with every portfolio-file field and their stage (a contributor's:
    those of their business units), as `valuegap initiative list --format json`."""
    return answer(ledger.portfolio.initiatives(stage=stage, unit=business_unit))


@router.get("/initiatives/{initiative_id}", response_model=dict[str, Any])
def get_initiative(initiative_id: str, ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """One initiative: its fields and metrics, readiness controls, next review and stage
    history, as `valuegap initiative show ID --format json`. The ETag is its version, for
    `If-Match` on `PUT`."""
    detail = ledger.governance.initiative_detail(initiative_id)
    return answer(detail.document(), version=version(detail.initiative))


@router.put(
    "/initiatives/{initiative_id}",
    response_model=Initiative,
    responses=CONFLICTS,
)
def put_initiative(
    initiative_id: str,
    spec: InitiativeSpec,
    if_match: IfMatch,
    ledger: Annotated[Ledger, acting("portfolio.write")],
) -> JSONResponse:
    """Change one initiative to the fields given (as a portfolio file declares it), if it is
    still at the version `If-Match` names; else 412, and nothing is written."""
    changed = ledger.portfolio.update_initiative(
        initiative_id, spec, expected_version=expected(if_match)
    )
    return answer(changed, version=version(changed))


@router.post(
    "/initiatives/apply",
    response_model=ApplyResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def apply_portfolio(
    request: Request,
    ledger: Annotated[Ledger, acting("portfolio.write")],
    dry_run: Annotated[bool, Query(description="Only say what would change.")] = False,
) -> JSONResponse:
    """Apply a portfolio document (JSON, or the YAML of a portfolio file): create and update
    what it declares, all or nothing, with the same validation as `valuegap apply`. Applying
    it again changes nothing."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            "The portfolio document was refused.", [Problem("body", "must be UTF-8 text")]
        ) from None
    result = await run_in_threadpool(
        ledger.portfolio.apply_text, text, "the request body", dry_run=dry_run
    )
    return answer(result)


@router.post(
    "/initiatives/{initiative_id}/advance",
    response_model=StageMove,
    responses=DENIED,
)
def advance(
    initiative_id: str, move: Advance, ledger: Annotated[Ledger, acting("stage.move")]
) -> JSONResponse:
    """Move an initiative to its next stage if its gate allows (`valuegap initiative
    advance`). A gate that asks for approval records a pending request: `approval_id` names
    it, and a governance user decides it under `/approvals`. A denied move is 409 with the
    rules that denied it (`rule_ids`)."""
    return answer(ledger.governance.gates.advance(initiative_id, move.to_stage))


@router.post(
    "/initiatives/{initiative_id}/retire",
    response_model=StageMove,
    responses=DENIED,
)
def retire(
    initiative_id: str, move: Retire, ledger: Annotated[Ledger, acting("stage.move")]
) -> JSONResponse:
    """Retire an initiative from any stage, with the reason and the learnings
    (`valuegap initiative retire`)."""
    return answer(
        ledger.governance.gates.retire(initiative_id, reason=move.reason, learnings=move.learnings)
    )


@router.get("/initiatives/{initiative_id}/gate", response_model=GateCheck)
def gate_check(
    initiative_id: str,
    ledger: Annotated[Ledger, acting("read")],
    to_stage: Annotated[str, Query(description="The stage to move to.")],
    reason: Annotated[str | None, Query(description="A retirement's reason.")] = None,
    learnings: Annotated[str | None, Query(description="A retirement's learnings.")] = None,
) -> JSONResponse:
    """What the gate would decide for this move now, without moving, as `valuegap gate check
    --format json`."""
    return answer(ledger.governance.gates.gate_check(initiative_id, to_stage, reason, learnings))

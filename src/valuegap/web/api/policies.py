"""``/api/v1/policies``: the policies in force, and applying a policy file."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from valuegap.errors import Problem, ValidationError
from valuegap.governance.api import PolicyApplied, PolicyVersion
from valuegap.ledger import Ledger
from valuegap.web.answers import ERRORS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["policies"], responses=ERRORS)


@router.get("/policies", response_model=list[PolicyVersion])
def list_policies(ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """The versions in force: the newest of each layer and scope, as `valuegap policy list
    --format json`."""
    return answer(ledger.governance.policies_in_force())


@router.post(
    "/policies",
    response_model=PolicyApplied,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def apply_policy(
    request: Request, ledger: Annotated[Ledger, acting("policy.write")]
) -> JSONResponse:
    """Apply a policy file (its YAML text as the body): validated whole, it becomes the new
    version of its layer and scope; the rules in force already change nothing
    (`changed: false`). A refused file is 422 with every problem."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            "The policy file was refused.", [Problem("body", "must be UTF-8 text")]
        ) from None
    applied = await run_in_threadpool(ledger.governance.apply_policy, text, "the request body")
    return answer(applied)

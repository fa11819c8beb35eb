"""``/api/v1/rules``: the allocation rules in force, which say what initiative and business
unit a cost belongs to; and a new set of them, from a YAML file."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valuegap.costs.rules import RuleSet
from valuegap.ledger import Ledger
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["rules"], responses=PROBLEMS)


class RulesVersion(BaseModel):
    """The version of the allocation rules in force."""

    version: int


@router.get("/rules", response_model=RuleSet)
def allocation_rules(ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """The allocation rules in force, in the order they are tried."""
    return answer(ledger.costs.allocation_rules())


@router.put("/rules", response_model=RulesVersion)
def apply_rules(
    file: Annotated[UploadFile, File(description="The rules, as YAML (see examples/rules.yaml).")],
    ledger: Annotated[Ledger, acting("rules.write")],
) -> RulesVersion:
    """Replace the rules in force with those of the file, refused whole on any problem (422,
    each problem with where it is); the reports recompute. The same rules again change
    nothing and keep their version."""
    return RulesVersion(version=ledger.costs.apply_rules(file.file, source_name=file.filename))

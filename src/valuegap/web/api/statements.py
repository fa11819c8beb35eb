"""``/api/v1/statements`` and ``/api/v1/chargeback``: business units' statements (showback, and
chargeback where finance switched a unit to it), switching a unit, closing a month."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from valuegap.ledger import Ledger
from valuegap.outcomes.periods import parse_period
from valuegap.outcomes.statement import Statement
from valuegap.outcomes.statements import ChargebackUnit
from valuegap.web.answers import ERRORS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["statements"], responses=ERRORS)

_MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
Unit = Annotated[str, Path(description="The business unit.")]
Finance = Annotated[Ledger, acting("cost.write")]


class Switch(BaseModel):
    from_month: str = Field(pattern=_MONTH, description="The first month charged back, YYYY-MM.")
    cost_centre: str | None = Field(default=None, description="The cost centre to book to.")


class Close(BaseModel):
    month: str = Field(pattern=_MONTH, description="The month to close, YYYY-MM, once over.")


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:]), 1)


@router.get("/statements/{unit}", response_model=Statement)
def statement(
    unit: Unit,
    ledger: Annotated[Ledger, acting("read")],
    period: Annotated[
        str, Query(description="A month (2026-03), quarter (2026-Q1), half or year.")
    ],
) -> JSONResponse:
    """The unit's statement for the period, as `valuegap report showback --format json`: its
    cost by initiative, category, provider, model and basis; shared cost with the rule and
    driver that split it; unit economics; activity as context; in chargeback, the amount to
    book with the adjustments to closed months. A contributor reads only their own units'."""
    return answer(ledger.statements.statement(unit, parse_period(period)))


@router.post("/statements/{unit}/close", response_model=Statement)
def close_month(unit: Unit, body: Close, ledger: Finance) -> JSONResponse:
    """Close a month of the unit once it is over: its statement is kept as it is now, and a
    later change to the month is an adjustment in the next open month (closing again changes
    nothing). Finance's; audit-logged."""
    return answer(ledger.statements.close_month(unit, _month(body.month)))


@router.get("/chargeback", response_model=list[ChargebackUnit])
def chargeback_units(ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """The business units in chargeback, from which month, their cost centres, closed months."""
    return answer(ledger.statements.chargeback_units())


@router.put("/chargeback/{unit}", response_model=ChargebackUnit)
def set_chargeback(unit: Unit, body: Switch, ledger: Finance) -> JSONResponse:
    """Switch the unit to chargeback from a month (or change the month or cost centre).
    Finance's; audit-logged."""
    return answer(ledger.statements.set_chargeback(unit, _month(body.from_month), body.cost_centre))

"""The adoption page: the adoption ladder of each disclosed group (groups x rungs, small groups
rolled up into larger ones exactly as ``ledger.adoption.adoption_report`` gives them: never a
person) and each group's conviction distance, from executive confidence to realised outcome."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from valuegap.adoption.conviction import LEVELS
from valuegap.charts.specs import GROUP_RUNGS, RUNGS, rung_reached
from valuegap.web.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/adoption")
def adoption(
    request: Request,
    viewer: PageViewer,
    unit: Annotated[
        str | None, Query(max_length=200, description="Only this org unit's part of the chart.")
    ] = None,
    initiative: Annotated[
        str | None, Query(max_length=200, description="Only the people of this initiative.")
    ] = None,
    on: Annotated[date | None, Query(description="The report date (default: the latest).")] = None,
) -> HTMLResponse:
    from valuegap.charts.specs import ladder_heatmap

    ledger = viewer.ledger
    ladder = ledger.adoption.adoption_report(unit or None, initiative or None, on)
    conviction = ledger.adoption.conviction_report(on)
    context = {
        "ladder": ladder,
        "conviction": conviction,
        "rungs": RUNGS,
        "group_rungs": GROUP_RUNGS,
        "reached": rung_reached,
        "levels": [level.value for level in LEVELS],
        "people": sum(group.people for group in ladder.groups),
        "heatmap": ladder_heatmap(ladder) if ladder.groups else None,
        "unit": unit or "",
        "initiative": initiative or "",
    }
    return render(request, viewer, "adoption.html", context)

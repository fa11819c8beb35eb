"""The portfolio page: attribution coverage, total AI spend, value and ROI, unallocated spend,
the initiatives by stage with their status, and the portfolio's J-curve against its band."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from valuegap.outcomes.periods import window
from valuegap.web.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/portfolio", status_code=303)


@router.get("/portfolio")
def portfolio(
    request: Request,
    viewer: PageViewer,
    period: Annotated[str | None, Query(description="2026, 2026-H1, 2026-Q1, 2026-03.")] = None,
) -> HTMLResponse:
    ledger = viewer.ledger
    report = ledger.outcomes.portfolio_report(window(period, None, None))
    jcurve = ledger.outcomes.portfolio_jcurve()
    statuses = {line.id: line.status for line in jcurve.initiatives}
    return render(
        request,
        viewer,
        "portfolio.html",
        {"report": report, "jcurve": jcurve, "statuses": statuses, "period": period or ""},
    )

"""The portfolio page: attribution coverage (headline and trend), total AI spend, value (point
and conservative) and ROI on all AI spend, unallocated spend, the initiatives by stage with their
status, and the portfolio's J-curve against its band."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from valuegap.charts import specs
from valuegap.ledger import Ledger
from valuegap.outcomes.periods import Window, window
from valuegap.outcomes.results import InitiativeValue
from valuegap.web.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)

STAGE_TITLES = {
    "scaled": "Scaled",
    "production": "Production",
    "mvp": "MVP",
    "poc": "PoC",
    "proposed": "Proposed",
    "retired": "Retired",
}


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
    asked = window(period, None, None)
    # The page as first shown is made once between writes (the read cache); another period
    # when asked for, so that what visitors ask for cannot fill the cache.
    if period:
        context = _context(ledger, asked, period)
    else:
        key = ("portfolio page", viewer.user.name, ledger.session.now().date())
        context = ledger.session.until_written(key, lambda: _context(ledger, asked, None))
    return render(request, viewer, "portfolio.html", context)


def _context(ledger: Ledger, asked: Window, period: str | None) -> dict[str, Any]:
    report = ledger.outcomes.portfolio_report(asked)
    jcurve = ledger.outcomes.portfolio_jcurve()
    trend = ledger.outcomes.coverage_trend(asked)
    # A retired initiative has no live J-curve status: it says so (the status it had when
    # retired is in the J-curve report).
    statuses = {line.id: "retired" if line.retired else line.status for line in jcurve.initiatives}
    return {
        "report": report,
        "value": ledger.outcomes.portfolio_value(asked),
        "jcurve": jcurve,
        "jcurve_spec": specs.jcurve_chart(jcurve) if jcurve.months else None,
        "trend": trend,
        "trend_spec": specs.coverage_trend_chart(trend) if trend.months else None,
        "by_stage": by_stage(report.initiatives),
        "stage_titles": STAGE_TITLES,
        "statuses": statuses,
        "period": period or "",
    }


def by_stage(initiatives: list[InitiativeValue]) -> list[tuple[str, list[InitiativeValue]]]:
    """The initiatives grouped by stage, furthest along first (``STAGE_TITLES``' order),
    retired last."""
    groups = [(stage, [i for i in initiatives if i.stage == stage]) for stage in STAGE_TITLES]
    return [(stage, found) for stage, found in groups if found]

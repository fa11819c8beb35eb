"""``/api/v1/reports/...``: costs by any dimension, reconciliation with the invoices, value
(one initiative, the portfolio, the scoreboard), spend forecasts and anomalies, and adoption
(the ladder, the conviction distance), each the JSON ``valuegap report ... --format json``
prints for the same options."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path, Query
from fastapi.responses import JSONResponse, Response

from valuegap.adoption.reports import AdoptionReport, ConvictionReport
from valuegap.costs.reconcile import ReconcileLine
from valuegap.costs.spend_results import AnomalyReport, SpendForecast
from valuegap.ledger import Ledger
from valuegap.outcomes.coverage import CoverageTrend
from valuegap.outcomes.periods import window
from valuegap.outcomes.portfolio_value import PortfolioValue
from valuegap.outcomes.results import InitiativeReport, PortfolioReport, Scoreboard
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["reports"], responses=PROBLEMS)

Reader = Annotated[Ledger, acting("read")]
_MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
Period = Annotated[
    str | None,
    Query(description="A year, half, quarter or month: 2026, 2026-H1, 2026-Q1, 2026-03."),
]
From = Annotated[
    str | None, Query(alias="from", pattern=_MONTH, description="The first month, YYYY-MM.")
]
To = Annotated[
    str | None, Query(alias="to", pattern=_MONTH, description="The month after the last, YYYY-MM.")
]

SeriesBy = Annotated[
    str, Query(description="Comma-separated: initiative, business_unit, provider, model.")
]


def _month(text: str | None) -> date | None:
    return None if text is None else date(int(text[:4]), int(text[5:]), 1)


@router.get("/reports/costs", response_model=list[dict[str, str | None]])
def cost_report(
    ledger: Reader,
    by: Annotated[
        str,
        Query(
            description="Comma-separated: initiative, business_unit, category, month, "
            "provider, service, service_category, model, sub_account, source, basis "
            "(invoiced, estimated, manual), tag:<key>."
        ),
    ] = "initiative,month",
    start: From = None,
    end: To = None,
) -> JSONResponse:
    """Cost in the reporting currency, each dollar once: invoices, manual costs, and usage no
    invoice covers yet (``estimated``); the usage events' own cost beside (``usage_cost``).
    Each row has the dimensions it is summed by, then its amounts (decimal strings) and
    currency. Unallocated cost is always shown."""
    keys = [key.strip() for key in by.split(",") if key.strip()]
    lines = ledger.costs.cost_report(keys, _month(start), _month(end))
    return answer([line.summed_by(keys) for line in lines])


@router.get("/reports/reconcile", response_model=list[ReconcileLine])
def reconcile(
    ledger: Reader,
    tolerance: Annotated[
        Decimal, Query(ge=0, description="Flag gaps above this share (0.05 is 5%).")
    ] = Decimal("0.05"),
) -> JSONResponse:
    """Computed usage cost against the invoiced token services, per provider and month, like
    for like, with what explains the gap."""
    return answer(ledger.costs.reconcile(tolerance))


@router.get("/reports/initiatives/{initiative_id}", response_model=InitiativeReport)
def initiative_report(
    initiative_id: Annotated[str, Path(description="The initiative's id.")],
    ledger: Reader,
    period: Period = None,
    start: From = None,
    end: To = None,
) -> JSONResponse:
    """One initiative's cost, value with its interval, ROI, payback, cost per successful
    outcome, capacity, behaviour and quality."""
    asked = window(period, _month(start), _month(end))
    return answer(ledger.outcomes.initiative_report(initiative_id, asked))


@router.get("/reports/portfolio", response_model=PortfolioReport)
def portfolio_report(
    ledger: Reader, period: Period = None, start: From = None, end: To = None
) -> JSONResponse:
    """Every initiative's cost, value and ROI, and attribution coverage: the share of all AI
    cost (unallocated included) tied to a validated outcome."""
    return answer(ledger.outcomes.portfolio_report(window(period, _month(start), _month(end))))


@router.get("/reports/coverage", response_model=CoverageTrend)
def coverage_trend(
    ledger: Reader, period: Period = None, start: From = None, end: To = None
) -> JSONResponse:
    """Attribution coverage month by month (each month's is the portfolio report's for that
    month), with its change from the first month to the latest."""
    return answer(ledger.outcomes.coverage_trend(window(period, _month(start), _month(end))))


@router.get("/reports/value", response_model=PortfolioValue)
def portfolio_value(
    ledger: Reader, period: Period = None, start: From = None, end: To = None
) -> JSONResponse:
    """The value of every initiative's metrics, point and interval (conservative: its lower
    bound, from the variances added, not a sum of lower bounds), and ROI on all AI cost,
    unallocated included: the portfolio page's and the executive report's headline."""
    return answer(ledger.outcomes.portfolio_value(window(period, _month(start), _month(end))))


@router.get(
    "/reports/executive",
    response_model=None,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}, "application/json": {}}}},
)
def executive_report(
    ledger: Reader,
    format: Annotated[
        Literal["pdf", "html", "json"],
        Query(description="pdf, html (one self-contained page) or json."),
    ] = "pdf",
    period: Period = None,
    start: From = None,
    end: To = None,
) -> Response:
    """The executive report (``valuegap report executive``): the headline numbers, the
    coverage trend, the J-curves and the scale/fix/kill list (default period: the latest
    quarter with cost)."""
    from valuegap.charts.executive import executive_report

    asked = window(period, _month(start), _month(end)) if period or start or end else None
    report = executive_report(ledger, asked)
    if format == "json":
        return answer(report)
    if format == "html":
        from valuegap.charts.executive_html import to_html

        # A file to forward (its style inline, which the server's CSP would block if a
        # browser showed it as a page of this site): saved, not shown.
        return Response(
            to_html(report),
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="executive-report.html"'},
        )
    from valuegap.charts.executive_pdf import to_pdf

    return Response(
        to_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="executive-report.pdf"'},
    )


@router.get("/reports/scoreboard", response_model=Scoreboard)
def scoreboard(
    ledger: Reader, period: Period = None, start: From = None, end: To = None
) -> JSONResponse:
    """Coverage and its change, laggards retired, cost per successful outcome falling, per
    business unit (default: the latest quarter with cost, against the one before)."""
    asked = window(period, _month(start), _month(end)) if period or start or end else None
    return answer(ledger.outcomes.scoreboard(asked))


On = Annotated[
    date | None,
    Query(description="The report date, YYYY-MM-DD (default: the day after the latest data)."),
]


@router.get("/reports/adoption", response_model=AdoptionReport)
def adoption_report(
    ledger: Reader,
    unit: Annotated[
        str | None, Query(description="Only the groups in this org unit's part of the chart.")
    ] = None,
    initiative: Annotated[
        str | None, Query(description="Only the people of this initiative (or tool).")
    ] = None,
    on: On = None,
) -> JSONResponse:
    """The adoption ladder of each group of at least ``min_group_size`` people: its rung, the
    share of its licensed people at each rung and reaching it, and the largest drop."""
    return answer(ledger.adoption.adoption_report(unit, initiative, on))


@router.get("/reports/conviction", response_model=ConvictionReport)
def conviction_report(ledger: Reader, on: On = None) -> JSONResponse:
    """The conviction distance of each group of at least ``min_group_size`` people: the five
    levels (0-1), the distance from executive confidence to realised outcome, and the largest
    drop."""
    return answer(ledger.adoption.conviction_report(on))


@router.get("/reports/forecast", response_model=SpendForecast)
def forecast(
    ledger: Reader,
    by: SeriesBy = "initiative",
    month: Annotated[
        str | None, Query(pattern=_MONTH, description="The month, YYYY-MM (default: this).")
    ] = None,
    months: Annotated[int, Query(ge=1, le=120, description="The months of the period.")] = 1,
    as_of: Annotated[
        date | None,
        Query(description="Forecast from the days before this one (default: today)."),
    ] = None,
) -> JSONResponse:
    """Spend by the period's end: the days so far, the days left at the weekday and weekend
    rates of the last four weeks, manual costs as entered, with a 90 % interval; by
    initiative, against its business case's planned investment."""
    return answer(ledger.costs.spend.forecast(by.split(","), _month(month), months, as_of))


@router.get("/reports/anomalies", response_model=AnomalyReport)
def anomalies(
    ledger: Reader,
    by: SeriesBy = "initiative",
    since: Annotated[
        date | None,
        Query(description="The first day, YYYY-MM-DD (default: 7 days before `until`)."),
    ] = None,
    until: Annotated[
        date | None, Query(description="The day after the last (default: today).")
    ] = None,
    threshold: Annotated[
        Decimal, Query(gt=0, description="Flag days more than this many scales off.")
    ] = Decimal("3.5"),
) -> JSONResponse:
    """Days whose spend departs from the same weekday's in the four weeks before (median and
    MAD), per series, with the lines that drove each."""
    return answer(ledger.costs.spend.anomalies(by.split(","), since, until, threshold))

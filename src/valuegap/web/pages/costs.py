"""The costs page: cost by business unit, category, provider and model; the unallocated spend
and the lines behind it; reconciliation with the invoices; each business unit's statement
(showback, or chargeback where finance switched the unit to it) as CSV; budgets with their
forecast, and the latest alerts. Finance (``cost.write``) uploads a cost file here, loaded as
``POST /api/v1/ingest/...`` loads it, and sees the totals change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response

from valuegap.costs.cost_report import CostLine, cost_by
from valuegap.costs.rules import UNALLOCATED
from valuegap.errors import ConfigError, ValidationError
from valuegap.ledger import Ledger
from valuegap.months import add_months, month_start
from valuegap.outcomes.periods import parse_period, window
from valuegap.records import record
from valuegap.web.answers import attachment
from valuegap.web.auth import acting
from valuegap.web.pages.common import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)

BREAKDOWNS = ("business_unit", "category", "provider", "model")
UNALLOCATED_BY = ["initiative", "provider", "service", "model", "category", "source", "basis"]
RECONCILE_TOLERANCE = Decimal("0.05")  # the API's and the CLI's default
ALERTS_SHOWN = 20
UploadKind = Literal["focus", "usage", "costs"]


@record
class Share:
    """One value of a dimension and its cost, of all the cost shown."""

    name: str
    cost: Decimal
    share: float | None


@record
class Breakdown:
    dimension: str
    shares: list[Share]
    chart: dict[str, Any]


def _breakdown(lines: Sequence[CostLine], dimension: str, total: Decimal) -> Breakdown:
    from valuegap.charts.specs import cost_bar_chart

    ordered = cost_by(lines, dimension)
    shares = [Share(name, cost, float(cost / total) if total else None) for name, cost in ordered]
    return Breakdown(dimension, shares, cost_bar_chart(lines, dimension))


def _as_of(months: Sequence[str], today: date) -> date:
    """The day budgets and the forecast are shown for: today, or the last day of the latest
    month with cost when that month is over (a ledger of past data, such as the demo)."""
    if not months:
        return today
    latest = date.fromisoformat(f"{max(months)}-01")
    last_day = add_months(latest, 1) - timedelta(days=1)
    return min(today, last_day)


def report_context(viewer: Viewer, period: str | None, on: date | None) -> dict[str, Any]:
    """What the page's report part shows (also after an upload): every number from the same
    ledger methods as the API's."""
    from valuegap.charts.specs import spend_forecast_chart

    ledger: Ledger = viewer.ledger
    asked = window(period, None, None)
    lines = ledger.costs.cost_report([*BREAKDOWNS, "month"], asked.start, asked.end)
    total = sum((line.cost for line in lines), Decimal(0))
    months = sorted({line.month for line in lines if line.month})
    behind = [
        line
        for line in ledger.costs.cost_report(UNALLOCATED_BY, asked.start, asked.end)
        if line.initiative == UNALLOCATED and line.cost
    ]
    today = ledger.session.clock().date()
    day = on or _as_of(months, today)
    latest = max(months) if months else f"{day:%Y-%m}"
    statement_period = period or latest
    # As of the end of the day, as the budgets' status counts it: on a month's last day the
    # forecast is what the month cost.
    forecast = ledger.costs.spend.forecast(
        ["business_unit"], month_start(day), 1, day + timedelta(days=1)
    )
    alerts = ledger.costs.alerts.alerts(limit=ALERTS_SHOWN)
    reconciled = ledger.costs.reconcile(RECONCILE_TOLERANCE)
    chargeback = {unit.business_unit: unit for unit in ledger.statements.chargeback_units()}
    by_unit = _breakdown(lines, "business_unit", total)
    return {
        "currency": ledger.settings.reporting_currency,
        "period": period or "",
        "total": total,
        "estimated": sum((line.estimated for line in lines), Decimal(0)),
        "unallocated": sum((line.cost for line in behind), Decimal(0)),
        "unallocated_lines": behind,
        "breakdowns": [by_unit, *(_breakdown(lines, key, total) for key in BREAKDOWNS[1:])],
        "units": [  # the statements the viewer may read: a contributor's units'
            s.name
            for s in by_unit.shares
            if s.name not in (UNALLOCATED, "(none)") and viewer.user.may("read", s.name)
        ],
        "unit_costs": {s.name: s.cost for s in by_unit.shares},
        "chargeback": chargeback,
        "statement_period": statement_period,
        "reconciled": reconciled,
        "gaps": sum(1 for line in reconciled if line.status == "gap"),
        "on": day,
        "today": today,
        "pinned": on is None and day < today,  # the latest month with cost is over
        "budgets": ledger.costs.budgets.budget_status(None, day),
        "forecast": forecast,
        "forecast_chart": spend_forecast_chart(forecast) if forecast.lines else None,
        "alerts": alerts,
    }


Period = Annotated[
    str | None,
    Query(max_length=10, description="2026, 2026-H1, 2026-Q1, 2026-03 (default: all)."),
]
On = Annotated[date | None, Query(description="The day budgets and the forecast are shown for.")]


@router.get("/costs")
def costs(request: Request, viewer: PageViewer, period: Period = None, on: On = None) -> Response:
    # The page as first shown (its ten reads and five charts) is made once between writes (the
    # read cache); another period or day is made when asked for, so that what visitors ask
    # for cannot fill the cache.
    ledger = viewer.ledger
    if period or on:
        context = report_context(viewer, period or None, on)
    else:
        key = ("costs page", viewer.user.name, ledger.session.now().date())
        context = ledger.session.until_written(key, lambda: report_context(viewer, None, None))
    return render(request, viewer, "costs.html", {**context, "upload": viewer.may("cost.write")})


@router.get("/costs/statements/{unit:path}.csv")  # a unit may have a / in its name
def statement_csv(
    viewer: PageViewer,
    unit: Annotated[str, Path(max_length=200)],
    period: Annotated[str, Query(max_length=10)],
) -> Response:
    """The unit's statement for the period as CSV: what ``valuegap report showback --format
    csv`` prints."""
    from valuegap.outcomes.statement import statement_rows
    from valuegap.render import Format, records

    statement = viewer.ledger.statements.statement(unit, parse_period(period))
    name = f"{statement.mode}-{unit}-{period}.csv".replace("/", "-")
    return Response(
        records(statement_rows(statement), Format.csv),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": attachment(name)},
    )


@router.post("/costs/upload")
def upload(
    request: Request,
    viewer: PageViewer,
    ledger: Annotated[Ledger, acting("cost.write")],
    kind: Annotated[UploadKind, Form()],
    file: Annotated[UploadFile, File()],
    period: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Load a cost file as ``POST /api/v1/ingest/{kind}`` does (the same permission, checks
    and errors). The answer is the upload's result and, when it loaded, the report again,
    which htmx puts in place of the page's."""
    try:
        if kind == "focus":
            results = ledger.costs.ingest_focus([file.file], [file.filename])
        elif kind == "usage":
            results = [ledger.costs.ingest_usage(file.file, source_name=file.filename)]
        else:
            results = [ledger.costs.ingest_costs(file.file, source_name=file.filename)]
    except (ValidationError, ConfigError) as refused:  # a file refused whole, or the upload
        found = refused.problems if isinstance(refused, ValidationError) else []
        summary = refused.summary if isinstance(refused, ValidationError) else str(refused)
        context = {"refused": True, "summary": summary, "problems": found, "report": False}
        return render(request, viewer, "partials/upload_result.html", context)
    context = {"refused": False, "results": results, "report": True}
    context |= report_context(viewer, period or None, None)
    return render(request, viewer, "partials/upload_result.html", context)

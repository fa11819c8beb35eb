"""The initiative page: cost, value with its interval, ROI and payback; metrics and why they
are (not) validated; the cost stack, the J-curve and cost per successful outcome over time;
behaviour and quality drift; what the gate to the next stage would need; the review's
recommendation, the stage history and the audit trail.

Each part comes from the ledger method the CLI and the API call (``report initiative``,
``report jcurve``, ``gate check``, ``initiative show``, ``review list``, ``audit log``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from valuegap.charts import specs
from valuegap.errors import NotFound, ValuegapError
from valuegap.governance.gates import GateCheck
from valuegap.ledger import Ledger
from valuegap.model.audit import AuditEntry
from valuegap.outcomes.jcurve import JCurveReport
from valuegap.outcomes.periods import window
from valuegap.portfolio.stages import possible_moves
from valuegap.records import record
from valuegap.web.pages.common import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 20  # audit entries shown at a time
Period = Annotated[str | None, Query(description="2026, 2026-H1, 2026-Q1, 2026-03.")]


@record
class Gate:
    """The gate to one stage: its check, or why the move cannot be asked for at all."""

    to_stage: str
    check: GateCheck | None
    refused: str | None


@record
class AuditLine:
    seq: int
    entry: AuditEntry
    summary: str


def gate(ledger: Ledger, initiative_id: str, to_stage: str) -> Gate:
    try:
        return Gate(to_stage, ledger.governance.gates.gate_check(initiative_id, to_stage), None)
    except NotFound:
        raise
    except ValuegapError as refused:  # a move that is never possible, e.g. prohibited
        return Gate(to_stage, None, str(refused))


def jcurve(ledger: Ledger, initiative_id: str) -> tuple[JCurveReport | None, str | None]:
    """The J-curve, or why there is none (no business case to name it in advance)."""
    try:
        return ledger.outcomes.jcurve(initiative_id), None
    except NotFound:
        raise
    except ValuegapError as missing:
        return None, str(missing)


def summary(entry: AuditEntry) -> str:
    """An entry's ``after`` as a short line: its plain fields, ``name: value``."""
    if entry.after is None:
        return ""
    try:
        after = json.loads(entry.after)
    except ValueError:
        return entry.after[:120]
    if not isinstance(after, dict):
        return str(after)[:120]
    plain = [
        f"{key}: {value}" for key, value in after.items() if isinstance(value, str | int | float)
    ]
    text = "; ".join(plain)
    return text if len(text) <= 160 else text[:157] + "..."


def audit_lines(ledger: Ledger, initiative_id: str, before: int | None) -> list[AuditLine]:
    """A page of the initiative's audit entries, newest first; only for someone who may see
    the initiative (a contributor's business units)."""
    ledger.portfolio.initiative(initiative_id)  # NotFound for another unit's
    entries = ledger.governance.audit.audit_log(
        entity_id=initiative_id, limit=AUDIT_PAGE, before=before
    )
    return [AuditLine(e.seq, e, summary(e)) for e in entries]


def _missing(request: Request, viewer: Viewer, initiative_id: str) -> HTMLResponse:
    """The page of an initiative that does not exist or that the viewer may not see (another
    business unit's, for a contributor): in a page's words, not the ledger's, whose message
    names a Python call."""
    message = f"There is no initiative {initiative_id!r} that you may see."
    return render(request, viewer, "missing.html", {"message": message}, status=404)


@router.get("/initiatives/{initiative_id}")
def initiative_page(
    request: Request, initiative_id: str, viewer: PageViewer, period: Period = None
) -> HTMLResponse:
    ledger = viewer.ledger
    try:
        asked = window(period, None, None)
        report = ledger.outcomes.initiative_report(initiative_id, asked)
    except NotFound:
        return _missing(request, viewer, initiative_id)
    detail = ledger.governance.initiative_detail(initiative_id)
    curve, no_curve = jcurve(ledger, initiative_id)
    costs = [
        line
        for line in ledger.costs.cost_report(
            ["initiative", "category", "month"], asked.start, asked.end
        )
        if line.initiative == initiative_id
    ]
    moves = possible_moves(report.initiative.stage)
    reviews = ledger.governance.reviews(initiative_id)
    context: dict[str, Any] = {
        "report": report,
        "detail": detail,
        "jcurve": curve,
        "no_jcurve": no_curve,
        "cost_lines": costs,
        "gate": gate(ledger, initiative_id, moves[0]) if moves else None,
        "moves": moves,
        "review": reviews[-1] if reviews else None,
        "audit": audit_lines(ledger, initiative_id, None),
        "audit_page": AUDIT_PAGE,
        "initiative_id": initiative_id,
        "period": period or "",
        "cost_stack": specs.cost_stack_chart(costs) if costs else None,
        "jcurve_spec": specs.jcurve_chart(curve) if curve else None,
        "outcome_spec": specs.cost_per_outcome_chart(report.outcomes, report.currency)
        if report.outcomes.by_month
        else None,
    }
    return render(request, viewer, "initiative.html", context)


def _partial(
    request: Request,
    viewer: Viewer,
    initiative_id: str,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HTMLResponse:
    """A part of the page (htmx swaps it in), or the page saying the initiative is not found
    (another unit's, for a contributor)."""
    try:
        found = context()
    except NotFound:
        return _missing(request, viewer, initiative_id)
    return render(request, viewer, template, found)


@router.get("/initiatives/{initiative_id}/gate")
def gate_partial(
    request: Request,
    initiative_id: str,
    viewer: PageViewer,
    to: Annotated[str, Query(max_length=40, description="The stage to move to.")],
) -> HTMLResponse:
    """The gate checklist for a move to ``to``."""
    return _partial(
        request,
        viewer,
        initiative_id,
        "partials/gate.html",
        lambda: {"gate": gate(viewer.ledger, initiative_id, to)},
    )


@router.get("/initiatives/{initiative_id}/audit")
def audit_partial(
    request: Request,
    initiative_id: str,
    viewer: PageViewer,
    before: Annotated[int, Query(ge=1, description="Entries older than this seq.")],
) -> HTMLResponse:
    """The next audit entries, older than ``before`` (appended to the table)."""
    return _partial(
        request,
        viewer,
        initiative_id,
        "partials/audit_rows.html",
        lambda: {
            "audit": audit_lines(viewer.ledger, initiative_id, before),
            "audit_page": AUDIT_PAGE,
            "initiative_id": initiative_id,
        },
    )

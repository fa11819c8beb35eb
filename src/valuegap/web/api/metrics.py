"""``/api/v1/metrics``: initiatives' success metrics: list, read one, define, change one
(``If-Match``), and finance's agreement to a metric's attribution method."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valuegap.ledger import Ledger
from valuegap.model.portfolio import MetricSpec
from valuegap.portfolio.api import version
from valuegap.web.answers import CONFLICTS, ERRORS, answer, expected
from valuegap.web.auth import acting, api_router

router = api_router(tags=["metrics"], responses=ERRORS)


class Agreement(BaseModel):
    """Finance's sign-off of a metric's attribution method."""

    by: str
    at: date | None = None  # a paper sign-off's date; default today


@router.get("/metrics", response_model=list[dict[str, Any]])
def list_metrics(
    ledger: Annotated[Ledger, acting("read")],
    initiative: Annotated[str | None, Query(description="Only this initiative's.")] = None,
) -> JSONResponse:
    """The success metrics, each with the initiative it measures (`initiative`), its method
    and finance's sign-off, as `valuegap metric list --format json`."""
    pairs = ledger.portfolio.metrics(initiative)
    return answer([{"initiative": owner, **m.model_dump(mode="json")} for owner, m in pairs])


@router.get("/metrics/{metric_id}", response_model=MetricSpec)
def get_metric(metric_id: str, ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """One metric; the ETag is its version, for `If-Match` on `PUT` and on an agreement."""
    metric = ledger.portfolio.metric(metric_id)
    return answer(metric, version=version(metric))


@router.post("/initiatives/{initiative_id}/metrics", response_model=MetricSpec, status_code=201)
def define_metric(
    initiative_id: str, metric: MetricSpec, ledger: Annotated[Ledger, acting("portfolio.write")]
) -> JSONResponse:
    """Define a new success metric of an initiative (`valuegap metric define`)."""
    defined = ledger.portfolio.define_metric(initiative_id, metric)
    return answer(defined, status=201, version=version(ledger.portfolio.metric(defined.id)))


@router.put("/metrics/{metric_id}", response_model=MetricSpec, responses=CONFLICTS)
def put_metric(
    metric_id: str,
    metric: MetricSpec,
    if_match: Annotated[str, Header(alias="If-Match", description="The ETag as read.")],
    ledger: Annotated[Ledger, acting("portfolio.write")],
) -> JSONResponse:
    """Change a metric to the fields given, if it is still at the version `If-Match` names;
    a change made in between is refused (412) and nothing is written, never overwritten."""
    changed = ledger.portfolio.update_metric(metric_id, metric, expected_version=expected(if_match))
    return answer(changed, version=version(changed))


@router.post("/metrics/{metric_id}/agree", response_model=MetricSpec, responses=CONFLICTS)
def agree_metric(
    metric_id: str,
    agreement: Agreement,
    ledger: Annotated[Ledger, acting("metric.agree")],
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="The ETag as read (optional).")
    ] = None,
) -> JSONResponse:
    """Record finance's agreement to a metric's attribution method (`valuegap metric
    agree`); with `If-Match`, only if the metric is still as read."""
    agreed = ledger.portfolio.agree_metric(
        metric_id,
        by=agreement.by,
        at=agreement.at,
        expected_version=None if if_match is None else expected(if_match),
    )
    return answer(agreed, version=version(agreed))

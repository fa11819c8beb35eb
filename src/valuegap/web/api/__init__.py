"""The API's resources, one module each; ``ROUTERS`` is every one of them, in the order the
OpenAPI schema lists them."""

from __future__ import annotations

from fastapi import APIRouter

from valuegap.web.api import (
    adoption,
    agents,
    approvals,
    audit,
    budgets,
    controls,
    ingest,
    initiatives,
    me,
    metrics,
    policies,
    prices,
    reports,
    reviews,
    rules,
    statements,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    me.router,
    users.router,
    initiatives.router,
    controls.router,
    metrics.router,
    approvals.router,
    reviews.router,
    policies.router,
    agents.router,
    ingest.router,
    adoption.router,
    rules.router,
    prices.router,
    budgets.router,
    reports.router,
    statements.router,
    audit.router,
)

"""The API's resources, one module each; ``ROUTERS`` is every one of them, in the order the
OpenAPI schema lists them."""

from __future__ import annotations

from fastapi import APIRouter

from valuegap.web.api import audit, ingest, me, prices, reports, rules, users

ROUTERS: tuple[APIRouter, ...] = (
    me.router,
    users.router,
    ingest.router,
    rules.router,
    prices.router,
    reports.router,
    audit.router,
)

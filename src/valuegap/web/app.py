"""The server's application: one ``Ledger`` shared by every request, the API under
``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``), sign-in, ``/healthz``, limits, headers and
one error shape."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from valuegap import __version__
from valuegap.ledger import Ledger
from valuegap.web import otlp, pages, problems
from valuegap.web.alert_check import AlertChecker
from valuegap.web.api import ROUTERS
from valuegap.web.drain import Drainer
from valuegap.web.guards import BodyLimit, SecurityHeaders
from valuegap.web.login import Attempts
from valuegap.web.login import router as login_router
from valuegap.web.route_gates import gate_routers

API = "/api/v1"
MAX_REQUEST_BYTES = 256 * 1024 * 1024


def _deliver_alerts(ledger: Ledger) -> None:
    try:
        ledger.costs.alerts.deliver_owed()
    except Exception:  # a thread's error would go unseen: it is logged
        logging.getLogger("valuegap.alerts").exception("Pending alerts were not delivered")


def create_app(ledger: Ledger, *, max_request_bytes: int = MAX_REQUEST_BYTES) -> FastAPI:
    """The server's application over ``ledger``, which it shares between requests (and
    does not close: whoever opened it does). While it runs (from its startup to its shutdown)
    a thread drains the OTLP inbox into usage events (web/drain.py), and another raises the
    alerts of forecasts and anomalies every hour (web/alert_check.py)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        drainer, checker = Drainer(ledger), AlertChecker(ledger)
        drainer.start()
        checker.start()
        if ledger.settings.alert_webhooks:  # what a restart left undelivered, sent beside
            threading.Thread(target=_deliver_alerts, args=(ledger,), daemon=True).start()
        try:
            yield
        finally:
            checker.stop()
            drainer.stop()

    app = FastAPI(
        title="valuegap",
        version=__version__,
        description="The AI value ledger's API. Every route of the API needs an API token "
        "(Authorization: Bearer) or a signed-in browser session.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: not on a closed network
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    app.state.attempts = Attempts()
    app.state.max_request_bytes = max_request_bytes
    problems.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Whether the server is up; open to anyone, and says nothing of the ledger."""
        return {"status": "ok"}

    app.include_router(login_router)
    pages.install(app)
    app.include_router(otlp.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        made = app.openapi_schema is None
        schema = generate()
        if made:
            utc_times(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    gate_routers(app)
    app.add_middleware(BodyLimit, limit=max_request_bytes)
    app.add_middleware(SecurityHeaders)
    return app


UTC_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$"


def utc_times(schema: Any) -> None:
    """Declare the ledger's times as it writes them, in place in an OpenAPI ``schema``: in
    UTC, ISO 8601 without an offset (``2026-03-01T09:30:00``), the JSON the CLI prints too.
    JSON Schema's ``date-time`` requires an offset, so it is replaced by a pattern."""
    if isinstance(schema, dict):
        if schema.get("format") == "date-time":
            del schema["format"]
            schema["pattern"] = UTC_TIME
            schema.setdefault("description", "A time in UTC, ISO 8601 without an offset.")
        for value in schema.values():
            utc_times(value)
    elif isinstance(schema, list):
        for value in schema:
            utc_times(value)

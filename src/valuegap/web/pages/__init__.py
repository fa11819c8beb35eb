"""The dashboard's pages: server-rendered HTML (Jinja2) with htmx, on the same reports as the
API and the CLI. Each page is a module with its router; ``install`` adds them to the app."""

from __future__ import annotations

from fastapi import FastAPI

from valuegap.web.pages import (
    adoption,
    assets,
    costs,
    governance,
    initiative,
    portfolio,
    refusals,
    scenarios,
    sign_in,
)
from valuegap.web.pages.common import SignInFirst, to_sign_in

SIGNED_IN = (  # the pages of a signed-in viewer
    portfolio.router,
    initiative.router,
    governance.router,
    scenarios.router,
    costs.router,
    adoption.router,
)
PAGE_ROUTERS = (assets.router, sign_in.router, *SIGNED_IN)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInFirst, to_sign_in)
    refusals.install(app, [route for router in SIGNED_IN for route in router.routes])
    for router in PAGE_ROUTERS:
        app.include_router(router)

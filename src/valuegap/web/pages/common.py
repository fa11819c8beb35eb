"""What every page shares: the signed-in user (or a redirect to sign in), the templates, and
rendering a page with the navigation and the CSRF token that its htmx requests send.

A page calls the same ledger method as the API and the CLI, so the three show the same numbers;
it formats them as the table renderer does (``decimals``)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuegap import __version__, decimals
from valuegap.ledger import Ledger
from valuegap.model.roles import GRANTS, Permission, User
from valuegap.records import record
from valuegap.web.auth import CSRF_HEADER, SESSION_COOKIE, shared_ledger
from valuegap.words import counted


@record
class Viewer:
    """The signed-in user of a page, their session's CSRF token, and the ledger acting as them."""

    user: User
    csrf: str
    ledger: Ledger

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.user.role]


class SignInFirst(Exception):
    """A page was asked for without a live session: the browser is sent to sign in."""

    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


async def viewer_of(request: Request) -> Viewer:
    ledger = shared_ledger(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    found = ledger.governance.credentials.session_user(cookie) if cookie else None
    if found is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInFirst(request.url.path + query)
    user, csrf = found
    return Viewer(user, csrf, ledger.acting_as(user.name))


PageViewer = Annotated[Viewer, Depends(viewer_of)]


def to_sign_in(request: Request, error: Exception) -> Response:
    """To the sign-in page, then back. An htmx request (a session that ended while the page
    was open) is answered with ``HX-Redirect``, which htmx follows with the whole window,
    back to the page the browser shows: a redirect would put the sign-in page in a panel."""
    assert isinstance(error, SignInFirst)
    if request.headers.get("HX-Request"):
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        then = shown.path + (f"?{shown.query}" if shown.query else "") if shown.path else "/"
        return Response(status_code=401, headers={"HX-Redirect": _sign_in_then(then)})
    return RedirectResponse(_sign_in_then(error.then), status_code=303)


def _sign_in_then(then: str) -> str:
    return f"/login?next={quote(then, safe='/')}"


@record
class NavItem:
    path: str
    title: str


NAVIGATION = (
    NavItem("/portfolio", "Portfolio"),
    NavItem("/costs", "Costs"),
    NavItem("/adoption", "Adoption"),
    NavItem("/governance", "Governance"),
    NavItem("/scenarios", "Scenarios"),
)


def money(amount: Decimal | float | None, currency: str | None) -> str:
    return "" if amount is None else decimals.money(Decimal(str(amount)), currency)


def percent(ratio: Decimal | float | None) -> str:
    """A ratio as the table renderer shows it (a ratio is a float in a result: its JSON
    number, whose shortest text is the value meant)."""
    return "" if ratio is None else decimals.percent(Decimal(str(ratio)))


def points(change: Decimal | float | None) -> str:
    """A change of a ratio in signed percentage points, as the executive report says it."""
    return "" if change is None else decimals.points(Decimal(str(change)))


def number(value: float | None) -> str:
    """A measured figure (an effect, its interval) to four significant digits, with thousands
    separators and never in scientific notation: 15,000; 122.8; 0.0312."""
    return "" if value is None else decimals.significant(value)


def months(start: date, end: date) -> str:
    """The whole months [start, end) as the rest of the app names them: 2025-07, or 2025-07 to
    2025-09; a span that is not whole months, by its days."""
    from valuegap.months import add_months

    if start.day != 1 or end.day != 1:
        return f"{start} to {end - timedelta(days=1)}"
    last = add_months(end, -1)
    return f"{start:%Y-%m}" if last == start else f"{start:%Y-%m} to {last:%Y-%m}"


def path_part(text: str) -> str:
    """``text`` as one part of a path, ``/`` included: "r&d/labs" -> "r%26d%2Flabs"."""
    return quote(text, safe="")


def chart(spec: dict[str, Any], label: str) -> Any:
    """A chart's place on a page: ``static/charts.js`` draws the Vega-Lite ``spec`` there, as
    wide as its place and without the title the page's heading gives it."""
    from markupsafe import Markup, escape

    from valuegap.charts.specs import for_page

    data = escape(json.dumps(for_page(spec), separators=(",", ":")))
    return Markup(
        f'<div class="chart" role="img" aria-label="{escape(label)}" data-spec="{data}"></div>'
    )


@cache
def _templates() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=PackageLoader("valuegap.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        money=money, percent=percent, points=points, number=number, path_part=path_part
    )
    environment.globals.update(
        chart=chart,
        version=__version__,
        csrf_header=CSRF_HEADER,
        counted=counted,
        months=months,
    )
    return environment


def render_text(template: str, context: dict[str, Any]) -> str:
    return str(_templates().get_template(template).render(**context))


def render(
    request: Request, viewer: Viewer, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A page, or (for an htmx request) just the fragment ``template`` renders when it is a
    partial: a template decides by extending ``base.html`` or not."""
    page = {
        "request": request,
        "viewer": viewer,
        "navigation": NAVIGATION,
        "hx_headers": json.dumps({CSRF_HEADER: viewer.csrf}),
        **context,
    }
    return HTMLResponse(render_text(template, page), status_code=status)

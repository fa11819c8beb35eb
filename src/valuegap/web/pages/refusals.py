"""A page asked for with input it cannot take (``?period=bogus``, a day out of range) answers
with a page: the layout, what is wrong with each field, and a link back to the page without
it. The API's routes, and the pages' htmx requests (whose script shows the problem's
``detail``), keep answering with problem details."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from valuegap.errors import ValidationError
from valuegap.web import problems
from valuegap.web.pages.common import SignInFirst, render, to_sign_in, viewer_of

ADDRESS_REFUSED = "The address asks for something this page cannot show."


def install(app: FastAPI, page_routes: Iterable[Any]) -> None:
    """Answer the refused input of the pages of ``page_routes`` (those with a signed-in
    viewer) with a page, and anything else's with problem details, as before."""
    pages = {route.endpoint for route in page_routes}

    def is_page(request: Request) -> bool:
        route = request.scope.get("route")
        asked_by_htmx = bool(request.headers.get("HX-Request"))
        return getattr(route, "endpoint", None) in pages and not asked_by_htmx

    async def refused(request: Request, error: Exception) -> Response:
        if not is_page(request):
            if isinstance(error, ValidationError):
                return problems.from_error(error)
            assert isinstance(error, RequestValidationError)
            return problems.from_request_error(error)
        try:
            viewer = await viewer_of(request)
        except SignInFirst as first:
            return to_sign_in(request, first)
        summary, items = _described(error)
        context = {"summary": summary, "problems": items, "back": request.url.path}
        return render(request, viewer, "refused.html", context, status=422)

    app.add_exception_handler(ValidationError, refused)
    app.add_exception_handler(RequestValidationError, refused)


def _described(error: Exception) -> tuple[str, list[problems.ProblemItem]]:
    """The summary and the problems of the refused input, each named by its field."""
    if isinstance(error, ValidationError):
        return error.summary, [problems.problem_item(p) for p in error.problems]
    assert isinstance(error, RequestValidationError)
    items = problems.request_problems(error)
    named = [i.model_copy(update={"where": i.where.removeprefix("query.")}) for i in items]
    return ADDRESS_REFUSED, named

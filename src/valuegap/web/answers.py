"""How a route answers: a ledger result in its one JSON form (``results.to_data``, what the
CLI's ``--format json`` prints), with the version of what it shows as its ``ETag``; the
``If-Match`` header of an update, read back into that version; and the errors a route may
answer with, declared for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from valuegap.results import to_data
from valuegap.web.problems import MEDIA_TYPE, ProblemDetails


def _problem(description: str) -> dict[str, Any]:
    """An error response as the OpenAPI schema declares it: problem details, in the media
    type they are sent as."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    content = {MEDIA_TYPE: {"schema": schema}}
    return {"model": ProblemDetails, "description": description, "content": content}


# Every error a route may answer with, for the OpenAPI schema; ERRORS, CONFLICTS and DENIED
# are the ones a route declares beside its own.
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: _problem(description)
    for status, description in (
        (400, "The request was refused"),
        (401, "No valid credentials"),
        (403, "The caller's role, or business units, do not allow it"),
        (404, "Not found (or not in the caller's business units)"),
        (409, "A policy refused it (`rule_ids` says which)"),
        (412, "Changed since the If-Match version"),
        (413, "The request body is larger than the server's limit"),
        (422, "The input was refused: every problem found, with its row, column and value"),
        (503, "The ledger is busy"),
    )
}
Responses = dict[int | str, dict[str, Any]]
ERRORS: Responses = {status: PROBLEMS[status] for status in (401, 403, 404, 422)}
CONFLICTS: Responses = {412: PROBLEMS[412]}
DENIED: Responses = {409: PROBLEMS[409]}


def answer(
    result: object,
    *,
    status: int = 200,
    version: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``result`` as JSON; ``version`` becomes its (strong) ``ETag``."""
    extra = {"ETag": f'"{version}"'} if version is not None else {}
    return JSONResponse(to_data(result), status, headers={**extra, **(headers or {})})


def expected(if_match: str) -> str:
    """The version an ``If-Match`` header names (an ETag, quoted or not)."""
    return if_match.strip().removeprefix("W/").strip('"')

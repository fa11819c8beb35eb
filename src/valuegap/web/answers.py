"""How a route answers: a ledger result in its one JSON form (``results.to_data``, what the
CLI's ``--format json`` prints), with the version of what it shows as its ``ETag``; and the
``If-Match`` header of an update, read back into that version."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from valuegap.results import to_data
from valuegap.web.problems import MEDIA_TYPE, ProblemDetails


def _problem(description: str) -> dict[str, Any]:
    """An error response as the OpenAPI schema declares it: problem details, in the media
    type they are sent as."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {"model": ProblemDetails, "description": description,
            "content": {MEDIA_TYPE: {"schema": schema}}}  # fmt: skip


# The errors most routes may answer, for the OpenAPI schema.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: _problem(description)
    for status, description in (
        (401, "No valid credentials"),
        (403, "The caller's role does not allow it"),
        (404, "Not found (or not in the caller's business units)"),
        (422, "The request was refused: problem details list every problem"),
    )
}
CONFLICTS: dict[int | str, dict[str, Any]] = {412: _problem("Changed since the If-Match version")}
DENIED: dict[int | str, dict[str, Any]] = {
    409: _problem("A policy refused it (`rule_ids` says which)")
}


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

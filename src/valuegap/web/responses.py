"""What the API's routes share: a result as the one JSON form the CLI prints
(``results.to_data``: exact decimals as strings), and the errors every route may answer with,
declared for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from valuegap.results import to_data
from valuegap.web.problems import MEDIA_TYPE, ProblemDetails

_PROBLEM = {
    "model": ProblemDetails,
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {**_PROBLEM, "description": description}
    for status, description in (
        (400, "The request was refused"),
        (401, "No credentials, or credentials that prove nobody"),
        (403, "The caller's role, or business units, do not allow it"),
        (404, "Not found"),
        (409, "A policy refused the change"),
        (413, "The request body is larger than the server's limit"),
        (422, "The input was refused: every problem found, with its row, column and value"),
        (503, "The ledger is busy"),
    )
}
"""The problem details a route of the API may answer with (``problems.py``)."""


def as_json(result: object, status_code: int = 200) -> JSONResponse:
    """``result`` as the CLI's ``--format json`` shows it; the route declares its type as its
    ``response_model``."""
    return JSONResponse(to_data(result), status_code)


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

"""How a route answers: a ledger result in its one JSON form (``results.to_data``, what the
CLI's ``--format json`` prints), with the version of what it shows as its ``ETag``; the
``If-Match`` header of an update, read back into that version; and the errors a route may
answer with, declared for the OpenAPI schema."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from fastapi.responses import JSONResponse

from valuegap.results import to_data
from valuegap.web.problems import MEDIA_TYPE, ProblemDetails


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the answer as the file ``name``, whatever its
    letters: a header is Latin-1, so an ASCII name for every browser (letters without their
    accents, anything else ``_``) and the name itself in UTF-8 for those that read it (all
    current ones, RFC 6266)."""
    letters = unicodedata.normalize("NFKD", name)  # é: e and its accent
    plain = "".join(_ascii(c) for c in letters if not unicodedata.combining(c)) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(character: str) -> str:
    return character if re.fullmatch(r"[A-Za-z0-9._-]", character) else "_"


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

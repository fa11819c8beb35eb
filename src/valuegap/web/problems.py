"""The one JSON shape of every error the server returns: RFC 9457 problem details.

    {"type": "urn:valuegap:problem:validation", "title": "The input was refused",
     "status": 422, "detail": "<what is wrong and what to do>",
     "errors": [{"where": ..., "message": ..., "value": ..., "file": ..., "row": ...,
                 "column": ...}]}

``errors`` is there when the input was refused whole (a validation or ingest error): every
problem found, each with the file, row, column and value when the input was a file.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from valuegap.errors import (
    ConfigError,
    LedgerBusy,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    Problem,
    Stale,
    ValidationError,
    ValuegapError,
    shown,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("valuegap.web")


class ProblemItem(BaseModel):
    """One thing wrong with the input."""

    where: str
    message: str
    value: str | None = None
    file: str | None = None
    row: int | None = None
    column: str | None = None


class ProblemDetails(BaseModel):
    """An error, as every route returns it."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
    rule_ids: list[str] | None = None


class Unauthenticated(ValuegapError):
    """No credentials, or credentials that prove nobody."""


class TooLarge(ValuegapError):
    """A request body above the server's limit."""


class TooManyAttempts(ValuegapError):
    """Too many failed sign-ins; ``retry_after`` seconds until the next may be tried."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"Too many failed sign-ins; try again in {retry_after} seconds, or ask an admin "
            "to set a new password."
        )


_KINDS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (Unauthenticated, 401, "unauthenticated", "Authentication is required"),
    (PermissionDenied, 403, "forbidden", "Not allowed"),
    (NotFound, 404, "not-found", "Not found"),
    (TooLarge, 413, "too-large", "The request is too large"),
    (ValidationError, 422, "validation", "The input was refused"),
    (PolicyViolation, 409, "policy", "A policy refused the change"),
    (LedgerBusy, 503, "busy", "The ledger is busy"),
    (ConfigError, 400, "configuration", "The request cannot be served as configured"),
    (ValuegapError, 400, "refused", "The request was refused"),
)


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = ProblemDetails(
        type=f"urn:valuegap:problem:{kind}", title=title, status=status, detail=detail, **extra
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body.model_dump(exclude_none=True), status, headers=headers, media_type=MEDIA_TYPE
    )


def problem_item(found: Problem) -> ProblemItem:
    return ProblemItem(
        where=found.where,
        message=found.message,
        value=None if found.value is None else shown(found.value),
        file=found.file,
        row=found.row,
        column=found.column,
    )


def from_error(error: ValuegapError, *, status: int | None = None) -> JSONResponse:
    """``error`` as problem details; ``status`` replaces the status its kind has (not that of
    a stale version or too many attempts)."""
    if isinstance(error, Stale):  # the ledger's check of an If-Match version
        return problem(412, "conflict", "The resource changed", str(error))
    if isinstance(error, TooManyAttempts):
        response = problem(429, "too-many-attempts", "Too many attempts", str(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    found, name, title = next(
        (status, name, title) for kind, status, name, title in _KINDS if isinstance(error, kind)
    )
    code = found if status is None else status
    if isinstance(error, ValidationError):
        items = [problem_item(p) for p in error.problems]
        return problem(code, name, title, error.summary, errors=items)
    if isinstance(error, PolicyViolation):
        return problem(code, name, title, str(error), rule_ids=error.rule_ids)
    return problem(code, name, title, str(error))


def request_problems(error: RequestValidationError) -> list[ProblemItem]:
    """What FastAPI found wrong with a request, as problem items."""
    return [
        ProblemItem(
            where=".".join(str(part) for part in e.get("loc", ())),
            message=str(e.get("msg", "")),
            value=None if e.get("input") is None else shown(e.get("input")),
        )
        for e in error.errors()
    ]


def from_request_error(error: RequestValidationError) -> JSONResponse:
    items = request_problems(error)
    return problem(
        422, "validation", "The input was refused", "The request was refused.", errors=items
    )


def install(app: FastAPI) -> None:
    """Every error as problem details: the ledger's own, FastAPI's validation of a request,
    HTTP errors (404 of an unknown path, 405), and anything unexpected (500, logged here,
    never shown to the caller)."""

    @app.exception_handler(ValuegapError)
    async def ledger_error(request: Request, error: ValuegapError) -> JSONResponse:
        return from_error(error)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return from_request_error(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return problem(error.status_code, "http", str(error.detail), str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem(
            500,
            "internal",
            "Internal error",
            "The server failed to answer; its log says why. Nothing was half-written.",
        )

"""Who is calling, and whether their role allows the route.

A request proves its user with an API token (``Authorization: Bearer vgt_...``), or, from a
browser, with the session cookie that signing in set; a browser's state-changing request must
also carry that session's CSRF token in ``X-CSRF-Token``. The route then acts as that user:
there is no ``--as`` over the API. Every route of the API declares the permission it needs
with ``acting(...)``: a router made by ``api_router`` refuses a route that declares none.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute

from valuegap.errors import PermissionDenied
from valuegap.ledger import Ledger
from valuegap.model.roles import GRANTS, Permission, User, describe
from valuegap.web.problems import Unauthenticated

SESSION_COOKIE = "valuegap_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PERMISSION_KEY = "x-valuegap-permission"


def shared_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def caller(request: Request) -> User:
    """The user the request proves, or ``Unauthenticated``."""
    credentials = shared_ledger(request).governance.credentials
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        user = credentials.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthenticated(
                "The API token is not valid: it is unknown, revoked or expired. An admin makes "
                "one with `valuegap token create --user NAME`."
            )
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    found = credentials.session_user(cookie) if cookie else None
    if found is None:
        raise Unauthenticated(
            "Sign in (POST /login), or send an API token as `Authorization: Bearer <token>`."
        )
    user, csrf = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise PermissionDenied(
                f"A browser's change needs the session's CSRF token in the {CSRF_HEADER} header."
            )
    return user


def acting(permission: Permission) -> Any:
    """A route's dependency: the shared ledger acting as the caller, whose role must grant
    ``permission`` (a contributor's business units are checked by the ledger itself).

    It runs on the event loop (``async``), not in a worker thread as a plain function would:
    what it reads (the token, the user) is cached, or one small read, and a hop to a thread
    and back costs a request more than that."""

    async def ledger_for(request: Request) -> Ledger:
        user = caller(request)
        if permission not in GRANTS[user.role]:
            holders = [role for role, grants in GRANTS.items() if permission in grants]
            raise PermissionDenied(
                f"{user.name} ({user.role}) may not {describe(permission)}; this needs the "
                f"role {' or '.join(holders)}."
            )
        request.state.user = user
        return shared_ledger(request).acting_as(user.name)

    ledger_for.permission = permission  # type: ignore[attr-defined]
    return Depends(ledger_for)


def declared_permission(route: APIRoute) -> str | None:
    """The permission a route declared with ``acting``, found among its dependencies."""
    pending: list[Any] = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        call: Callable[..., Any] | None = dependant.call
        found = getattr(call, "permission", None)
        if found is not None:
            return str(found)
        pending.extend(dependant.dependencies)
    return None


class Guarded(APIRoute):
    """A route of the API: it must declare its permission with ``acting(...)``, and the
    OpenAPI schema shows it (``x-valuegap-permission``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        permission = declared_permission(self)
        if permission is None:
            raise RuntimeError(f"The route {path} declares no permission (acting(...)).")
        self.openapi_extra = {**(self.openapi_extra or {}), PERMISSION_KEY: permission}


def api_router(**options: Any) -> APIRouter:
    """A router whose every route must declare its permission."""
    return APIRouter(route_class=Guarded, **options)

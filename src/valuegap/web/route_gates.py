"""Routing that looks only at the routers a path can reach.

FastAPI (from 0.140 or so) keeps each included router whole and, for every request, asks
each in turn whether one of its routes matches, trying every route's pattern; the router
found then tries them all again to pick the route. With the server's hundred routes in some
thirty routers that is a few hundred microseconds of a request's CPU, as much as the rest
of a small request's handling. Each included router is given a gate here: the paths its
routes can match, as exact paths (a route without parameters) and as literal beginnings
(the path before its first parameter, or a mount's prefix). A path none of them allows
passes the router by at once; a path one allows is matched by FastAPI as before, so which
route answers, and how, does not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

try:  # FastAPI's router as included; an older FastAPI copies the routes instead
    from fastapi.routing import _IncludedRouter
except ImportError:  # pragma: no cover - routing is then one pattern a route already
    _IncludedRouter = None  # type: ignore[assignment, misc]


def gate_routers(app: FastAPI) -> None:
    """Give each router included in ``app`` its gate. Call it once every route is added:
    a route added to an included router afterwards would be behind a gate that does not know
    it (an older FastAPI ignored such a route too)."""
    if _IncludedRouter is None:
        return
    routes = app.router.routes
    for position, route in enumerate(routes):
        if type(route) is _IncludedRouter:
            gated = _GatedRouter(
                original_router=route.original_router, include_context=route.include_context
            )
            if gated.open_to(routes_of=route) is not None:
                routes[position] = gated


if _IncludedRouter is not None:

    @dataclass
    class _GatedRouter(_IncludedRouter):
        """An included router that first checks the path against what its routes allow."""

        exact: frozenset[str] = field(default_factory=frozenset)
        beginnings: tuple[str, ...] = ()

        def open_to(self, *, routes_of: Any) -> _GatedRouter | None:
            """Learn the paths of ``routes_of``'s routes; None if one of them has no path
            (the router is then left ungated)."""
            found = _paths(routes_of)
            if found is None:
                return None
            self.exact, self.beginnings = found
            return self

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            if scope["type"] in ("http", "websocket"):
                path = _route_path(scope)
                if path not in self.exact and not path.startswith(self.beginnings):
                    return Match.NONE, {}
            return super().matches(scope)


def _route_path(scope: Scope) -> str:
    """The path routes match against: Starlette's ``get_route_path``, the path without the
    root path the application is served under."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


def _paths(router: Any) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(exact paths, literal beginnings) of every route the included ``router`` holds, its
    own included routers' too; None if a route has no path to tell."""
    exact: set[str] = set()
    beginnings: set[str] = set()
    for candidate in router.effective_candidates():
        if isinstance(candidate, _IncludedRouter):
            inner = _paths(candidate)
            if inner is None:
                return None
            exact |= inner[0]
            beginnings |= set(inner[1])
            continue
        path = getattr(candidate, "path", None)
        original: BaseRoute | None = getattr(candidate, "original_route", None)
        if not isinstance(path, str) or not path.startswith("/"):
            return None
        if isinstance(original, Route) and "{" not in path:
            exact.add(path)
        else:  # a parameter, or a mount (which matches below its path)
            beginnings.add(path.split("{", 1)[0])
    return frozenset(exact), tuple(sorted(beginnings))

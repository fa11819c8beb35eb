"""The pages' scripts and styles, served by valuegap itself so that the dashboard works on a
network with no way out: htmx, the Vega libraries (built from ``vl-convert``'s copy on first
use), and the pages' own files. They are the same for every user, so no sign-in is needed, and
browsers may keep them for a day (a new version of valuegap changes their address)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from valuegap.errors import NotFound

router = APIRouter(include_in_schema=False)

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CACHED = "public, max-age=86400, immutable"


@cache
def _asset(name: str) -> bytes | None:
    if name == "vega.js":
        return _vega().encode()
    if name == "vega.css":
        from valuegap.charts.bundle import TOOLTIP_CSS

        return TOOLTIP_CSS.encode()
    found = resources.files("valuegap.web") / "static" / name
    return found.read_bytes() if found.is_file() else None


def _vega() -> str:
    """The Vega libraries, then the options ``app.js`` draws every chart with: CSP-safe
    (expressions interpreted, not compiled; no style elements added to the page)."""
    from valuegap.charts.bundle import EMBED_OPTIONS, javascript

    options = json.dumps(EMBED_OPTIONS, separators=(",", ":"))
    return f"{javascript()}\nwindow.valuegapEmbedOptions = {options};\n"


@router.get("/static/{name}")
def asset(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    body = _asset(name) if suffix in MEDIA_TYPES and "/" not in name else None
    if body is None:
        raise NotFound(f"There is no file {name} here.")
    return Response(body, media_type=MEDIA_TYPES[suffix], headers={"cache-control": CACHED})

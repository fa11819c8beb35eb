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


BUILT = ("vega.js", "vega.css")  # made by valuegap.charts.bundle, not files


@cache
def served_names() -> frozenset[str]:
    """The names served: the files of ``web/static`` and the Vega bundle's, found once. Any
    other name is not found, and never kept (a cache keyed by whatever name a stranger asks
    for would grow without end)."""
    static = resources.files("valuegap.web") / "static"
    files = {found.name for found in static.iterdir() if found.is_file()}
    return frozenset(name for name in files | set(BUILT) if _suffix(name) in MEDIA_TYPES)


def _suffix(name: str) -> str:
    return name[name.rfind(".") :] if "." in name else ""


@cache  # only ever called with a name of ``served_names``: a bounded cache
def _asset(name: str) -> bytes:
    if name == "vega.js":
        return _vega().encode()
    if name == "vega.css":
        from valuegap.charts.bundle import TOOLTIP_CSS

        return TOOLTIP_CSS.encode()
    return (resources.files("valuegap.web") / "static" / name).read_bytes()


def _vega() -> str:
    """The Vega libraries, then the options ``app.js`` draws every chart with: CSP-safe
    (expressions interpreted, not compiled; no style elements added to the page)."""
    from valuegap.charts.bundle import EMBED_OPTIONS, javascript

    options = json.dumps(EMBED_OPTIONS, separators=(",", ":"))
    return f"{javascript()}\nwindow.valuegapEmbedOptions = {options};\n"


@router.get("/static/{name}")
def asset(name: str) -> Response:
    if name not in served_names():
        raise NotFound(f"There is no file {name} here.")
    headers = {"cache-control": CACHED}
    return Response(_asset(name), media_type=MEDIA_TYPES[_suffix(name)], headers=headers)

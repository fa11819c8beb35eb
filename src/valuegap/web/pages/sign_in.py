"""The sign-in page. The form's script posts the name and password to ``POST /login`` (the
same route an API client uses), then opens the page it was asked for: only a page of this
server, so that a link to the sign-in page cannot send someone elsewhere once signed in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from valuegap.web.pages.common import render_text

router = APIRouter(include_in_schema=False)

HOME = "/portfolio"


def page_of_this_server(asked: str) -> str:
    """``asked`` if it is a path of this server, else the portfolio. A browser reads ``\\``
    as ``/`` and drops tabs and new lines, so ``/\\evil.example`` and ``/<tab>/evil.example``
    are other hosts: refused, as are ``//host`` and ``scheme:...``."""
    if not asked.startswith("/") or asked.startswith("//") or "\\" in asked:
        return HOME
    if any(ord(character) < 32 or ord(character) == 127 for character in asked):
        return HOME
    parts = urlsplit(asked)
    return HOME if parts.scheme or parts.netloc else asked


@router.get("/login")
def sign_in_page(next: Annotated[str, Query(max_length=2000)] = HOME) -> HTMLResponse:
    return HTMLResponse(render_text("login.html", {"next": page_of_this_server(next)}))

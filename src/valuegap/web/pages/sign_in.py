"""The sign-in page. The form's script posts the name and password to ``POST /login`` (the
same route an API client uses), then opens the page it was asked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from valuegap.web.pages.common import render_text

router = APIRouter(include_in_schema=False)


@router.get("/login")
def sign_in_page(next: Annotated[str, Query(max_length=2000)] = "/portfolio") -> HTMLResponse:
    return HTMLResponse(render_text("login.html", {"next": next}))

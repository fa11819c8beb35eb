"""``/api/v1/me``: who the caller is, as the server proved it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request

from valuegap.ledger import Ledger
from valuegap.model.roles import User
from valuegap.web.auth import acting, api_router

router = api_router(tags=["users"])


@router.get("/me")
def me(request: Request, ledger: Annotated[Ledger, acting("read")]) -> User:
    """The calling user: name, role, business units, and the agent it acts for, if any."""
    user: User = request.state.user
    return user

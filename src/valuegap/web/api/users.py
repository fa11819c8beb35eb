"""``/api/v1/users`` and ``/api/v1/tokens``: who may do what, their passwords, and the API
tokens applications and agents call with. An admin manages every user; anyone may set their
own password and make, list and revoke their own tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from valuegap.governance.credentials import NewToken, Token
from valuegap.ledger import Ledger
from valuegap.model.roles import Role, User
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["users"], responses=PROBLEMS)

Name = Annotated[str, Path(description="The user's name.")]
# Self-or-admin routes need only ``read``: the ledger refuses another user's to a non-admin.
Caller = Annotated[Ledger, acting("read")]


class UserChange(BaseModel):
    """A user's role, business units (a contributor's) and the agent an agent's service
    account acts for."""

    role: Role | None = Field(
        None, description="Required for a new user, unless it is an agent's (contributor)."
    )
    units: list[str] = Field(default_factory=list)
    agent: str | None = None


class NewPassword(BaseModel):
    password: str = Field(description="At least 12 characters.")


class TokenRequest(BaseModel):
    user: str = Field(description="The user the token acts as.")
    expires_in_hours: int | None = Field(
        None, gt=0, le=24 * 3650, description="How long it lives (default: until revoked)."
    )
    label: str | None = Field(None, description="What the token is for.")


@router.get("/users", response_model=list[User])
def users(ledger: Caller) -> JSONResponse:
    """Every user, their role, business units, and the agent an agent's account acts for."""
    return answer(ledger.governance.users.users())


@router.put("/users/{name}", response_model=User)
def add_user(
    name: Name, change: UserChange, ledger: Annotated[Ledger, acting("user.manage")]
) -> JSONResponse:
    """Add a user, or change an existing user's role and units (an admin)."""
    user = ledger.governance.users.add_user(name, change.role, change.units, agent=change.agent)
    return answer(user)


@router.put("/users/{name}/password", status_code=204)
def set_password(name: Name, new: NewPassword, ledger: Caller) -> Response:
    """Set a user's password (an admin, or the user): it ends their browser sessions."""
    ledger.governance.credentials.set_password(name, new.password)
    return Response(status_code=204)


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(asked: TokenRequest, ledger: Caller) -> JSONResponse:
    """Make an API token (for yourself, or, as an admin, for anyone). ``secret`` is the whole
    token: it is in this response once, and never again (only its hash is kept)."""
    hours = asked.expires_in_hours
    expires_in = None if hours is None else timedelta(hours=hours)
    made = ledger.governance.credentials.create_token(
        asked.user, expires_in=expires_in, label=asked.label
    )
    return answer(made, status=201)


@router.get("/tokens", response_model=list[Token])
def tokens(
    ledger: Caller,
    user: Annotated[
        str | None, Query(description="Only this user's tokens (anyone may list their own).")
    ] = None,
) -> JSONResponse:
    """API tokens, never their secrets: an admin's list of everyone's, or the caller's own
    with ``user`` set to their name."""
    return answer(ledger.governance.credentials.tokens(user))


@router.delete("/tokens/{token_id}", response_model=Token)
def revoke_token(
    token_id: Annotated[str, Path(description="The token's id.")], ledger: Caller
) -> JSONResponse:
    """Revoke a token at once (your own, or, as an admin, anyone's)."""
    return answer(ledger.governance.credentials.revoke_token(token_id))

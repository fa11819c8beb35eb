"""Browser sign-in: ``POST /login`` checks a password and sets the session cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS); ``POST /logout`` ends the session. Failed sign-ins are
rate-limited per user name and per client address."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from valuegap.governance.credentials import SESSION_LIFETIME
from valuegap.model.roles import Role
from valuegap.web.auth import SESSION_COOKIE, shared_ledger
from valuegap.web.problems import TooManyAttempts, Unauthenticated

router = APIRouter(tags=["sign-in"])

FAILURES_ALLOWED = 5
FAILURE_WINDOW = 900.0  # seconds


class Attempts:
    """Failed sign-ins in the last ``FAILURE_WINDOW`` seconds, by key (a name, an address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= FAILURES_ALLOWED:
                    raise TooManyAttempts(int(failures[0] + FAILURE_WINDOW - now) + 1)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - FAILURE_WINDOW:
            failures.popleft()
        return failures


class SignIn(BaseModel):
    name: str
    password: str


class SignedIn(BaseModel):
    """The signed-in user, and the CSRF token every state-changing request must send in
    ``X-CSRF-Token``."""

    name: str
    role: Role
    units: list[str]
    csrf_token: str
    expires_at: datetime


@router.post("/login", response_model=SignedIn)
def login(sign_in: SignIn, request: Request, response: Response) -> SignedIn:
    attempts: Attempts = request.app.state.attempts
    address = request.client.host if request.client else "unknown"
    keys = (f"name:{sign_in.name}", f"address:{address}")
    attempts.check(*keys)
    credentials = shared_ledger(request).governance.credentials
    user = credentials.check_password(sign_in.name, sign_in.password)
    if user is None:
        attempts.failed(*keys)
        raise Unauthenticated("The name or the password is wrong.")
    session = credentials.start_session(user)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return SignedIn(
        name=user.name,
        role=user.role,
        units=list(user.units),
        csrf_token=session.csrf,
        expires_at=session.expires_at,
    )


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        shared_ledger(request).governance.credentials.end_session(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

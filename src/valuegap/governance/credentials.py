"""How the server proves who is calling (``ledger.governance.credentials``): users' passwords
(argon2id), API tokens for applications and agents, and browser sessions.

A token is ``vgt_<id>_<secret>``: the id is public (lists and revocations name it), the secret
is shown once, when the token is made, and only its SHA-256 is stored. A random secret of 256
bits needs no slow hash, so checking a token costs microseconds, which agent authorisation at
hundreds of requests a second needs; a password, chosen by a person, gets argon2id.

Locally, the file's owner is trusted and ``--as`` only names the actor: these checks are what
the server (``valuegap serve``) runs before it acts as anyone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.model.roles import User
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.store.credentials import CredentialStore, TokenRow
from valuegap.store.users import UserStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from argon2 import PasswordHasher

TOKEN_PREFIX = "vgt_"
MIN_PASSWORD_LENGTH = 12
SESSION_LIFETIME = timedelta(hours=12)


@record
class Token:
    """An API token as listed: never its secret."""

    id: str
    user: str
    label: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: TokenRow) -> Token:
        return cls(
            row.id,
            row.name,
            row.label,
            row.created_at,
            row.created_by,
            row.expires_at,
            row.revoked_at,
        )


@record
class NewToken:
    """A token just made: ``secret`` is the whole token, shown this once and never again."""

    token: Token
    secret: str


@record
class BrowserSession:
    """A signed-in browser: ``cookie`` goes in the session cookie, ``csrf`` in every
    state-changing request's ``X-CSRF-Token`` header."""

    user: User
    cookie: str
    csrf: str
    expires_at: datetime


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, with the library's parameters (RFC 9106's)


class Credentials(Part):
    """Passwords, API tokens and browser sessions of the ledger's users."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._store = CredentialStore(session.db)
        self._users = UserStore(session.db)

    def _user(self, name: str) -> User:
        user = self._users.get(name)
        if user is None:
            raise NotFound(f"There is no user {name!r}; an admin adds one first.")
        return user

    def _require_self_or_admin(self, name: str) -> None:
        if name != self.actor:
            self._require("user.manage")

    @writes
    def set_password(self, name: str, password: str) -> None:
        """Set ``name``'s password (an admin, or the user themself)."""
        self._require_self_or_admin(name)
        self._user(name)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                f"The password of {name} was not set.",
                [Problem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")],
            )
        hashed = _hasher().hash(password)
        with self._db.transaction():
            self._store.set_password(name, hashed, by=self.actor, at=self._now())
            self._store.end_sessions(name=name)  # a new password signs every browser out
            self._record("user.password", "user", name, None, {"name": name})

    def check_password(self, name: str, password: str) -> User | None:
        """The user, if ``password`` is theirs; else None (also for an unknown user, after
        the same work, so that timing does not tell which users exist)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hashed = self._store.password_hash(name)
        user = self._users.get(name)
        try:
            _hasher().verify(hashed or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return user if hashed is not None else None

    @writes
    def create_token(
        self, name: str, *, expires_in: timedelta | None = None, label: str | None = None
    ) -> NewToken:
        """A new API token that acts as ``name`` (an admin, or the user for themself)."""
        self._require_self_or_admin(name)
        self._user(name)
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValidationError(
                f"No token was made for {name}.",
                [Problem("expires_in", "must be a positive length of time", str(expires_in))],
            )
        now = self._now()
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        row = TokenRow(
            token_id,
            name,
            _sha256(secret),
            label,
            now,
            self.actor,
            now + expires_in if expires_in else None,
            None,
        )
        with self._db.transaction():
            self._store.add_token(row)
            self._record("token.create", "user", name, None, _token_fields(row))
        return NewToken(Token.of(row), f"{TOKEN_PREFIX}{token_id}_{secret}")

    def tokens(self, user: str | None = None) -> list[Token]:
        """The tokens of ``user`` (everyone's for an admin; a user's own otherwise)."""
        if user is None or user != self.actor:
            self._require("user.manage")
        return [Token.of(row) for row in self._store.tokens(user)]

    @writes
    def revoke_token(self, token_id: str) -> Token:
        """Revoke a token at once (an admin, or its user)."""
        row = self._store.token(token_id)
        if row is None:
            raise NotFound(f"There is no token {token_id!r}; `tokens()` lists them.")
        self._require_self_or_admin(row.name)
        if row.revoked_at is not None:
            return Token.of(row)
        now = self._now()
        with self._db.transaction():
            self._store.revoke_token(token_id, by=self.actor, at=now)
            self._record("token.revoke", "user", row.name, _token_fields(row), {"id": token_id})
        revoked = self._store.token(token_id)
        assert revoked is not None
        return Token.of(revoked)

    def user_for_token(self, token: str) -> User | None:
        """The user a presented token acts as; None if it is not a valid, live token."""
        token_id, secret = _parse_token(token)
        if token_id is None:
            return None
        row = self._store.token(token_id)
        if row is None or not hmac.compare_digest(row.secret_hash, _sha256(secret)):
            return None
        now = self._now()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        return self._users.get(row.name)

    @writes
    def start_session(self, user: User) -> BrowserSession:
        """A browser session for ``user``, whose password the caller has just checked."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._now()
        expires_at = now + SESSION_LIFETIME
        with self._db.transaction():
            self._store.end_expired_sessions(now)
            self._store.add_session(_sha256(cookie), user.name, csrf, at=now, expires_at=expires_at)
        return BrowserSession(user, cookie, csrf, expires_at)

    def session_user(self, cookie: str) -> tuple[User, str] | None:
        """The user of a live browser session, and the session's CSRF token."""
        row = self._store.session(_sha256(cookie))
        if row is None or row.expires_at <= self._now():
            return None
        user = self._users.get(row.name)
        return None if user is None else (user, row.csrf)

    @writes
    def end_session(self, cookie: str) -> None:
        with self._db.transaction():
            self._store.end_sessions(id_hash=_sha256(cookie))


def _parse_token(token: str) -> tuple[str | None, str]:
    if not token.startswith(TOKEN_PREFIX):
        return None, ""
    token_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    return (token_id, secret) if token_id and secret else (None, "")


def _token_fields(row: TokenRow) -> dict[str, object]:
    return {
        "id": row.id,
        "user": row.name,
        "label": row.label,
        "expires_at": row.expires_at,
    }


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user has no password."""
    return _hasher().hash(secrets.token_urlsafe(16))

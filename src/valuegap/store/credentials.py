"""Passwords, API tokens and browser sessions: only hashes are stored, never a secret.

These tables are not replayed by ``audit verify`` (store/proof.py): the audit log records who
set a password or made or revoked a token, never a hash, so that reading the log reveals
nothing that could be tried against a secret.
"""

from __future__ import annotations

from datetime import datetime

from valuegap.records import record
from valuegap.store.database import Database


@record
class TokenRow:
    id: str
    name: str
    secret_hash: str
    label: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


@record
class SessionRow:
    name: str
    csrf: str
    expires_at: datetime


_TOKEN_COLUMNS = "id, name, secret_hash, label, created_at, created_by, expires_at, revoked_at"


class CredentialStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def password_hash(self, name: str) -> str | None:
        row = self._db.one("SELECT hash FROM passwords WHERE name = ?", [name])
        return None if row is None else str(row[0])

    def set_password(self, name: str, hashed: str, *, by: str, at: datetime) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO passwords (name, hash, set_at, set_by) VALUES (?, ?, ?, ?)",
            [name, hashed, at, by],
        )

    def add_token(self, token: TokenRow) -> None:
        self._db.execute(
            f"INSERT INTO api_tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                token.id,
                token.name,
                token.secret_hash,
                token.label,
                token.created_at,
                token.created_by,
                token.expires_at,
                token.revoked_at,
            ],
        )

    def token(self, token_id: str) -> TokenRow | None:
        return self._db.cached(
            ("api_token", token_id),
            lambda: self._read_token(token_id),
            frozenset({"api_tokens"}),
        )

    def _read_token(self, token_id: str) -> TokenRow | None:
        rows = self._db.all(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", [token_id])
        return TokenRow(**rows[0]) if rows else None

    def tokens(self, name: str | None = None) -> list[TokenRow]:
        rows = self._db.all(
            f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE ? IS NULL OR name = ? "
            "ORDER BY created_at, id",
            [name, name],
        )
        return [TokenRow(**row) for row in rows]

    def revoke_token(self, token_id: str, *, by: str, at: datetime) -> None:
        self._db.execute(
            "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?",
            [at, by, token_id],
        )

    def add_session(
        self, id_hash: str, name: str, csrf: str, *, at: datetime, expires_at: datetime
    ) -> None:
        self._db.execute(
            "INSERT INTO web_sessions (id_hash, name, csrf, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [id_hash, name, csrf, at, expires_at],
        )

    def session(self, id_hash: str) -> SessionRow | None:
        row = self._db.one(
            "SELECT name, csrf, expires_at FROM web_sessions WHERE id_hash = ?", [id_hash]
        )
        return None if row is None else SessionRow(str(row[0]), str(row[1]), row[2])

    def end_sessions(self, *, id_hash: str | None = None, name: str | None = None) -> None:
        """End one session (``id_hash``), or every session of user ``name``."""
        self._db.execute("DELETE FROM web_sessions WHERE id_hash = ? OR name = ?", [id_hash, name])

    def end_expired_sessions(self, now: datetime) -> None:
        self._db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [now])

"""The ledger's users and their roles."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from valuegap.model.roles import User
from valuegap.store.database import Database
from valuegap.store.literals import literal

_COLUMNS = "name, role, units, agent"


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, name: str) -> User | None:
        return self._db.cached(("user", name), lambda: self._read(name), frozenset({"users"}))

    def _read(self, name: str) -> User | None:
        rows = self._db.all(f"SELECT {_COLUMNS} FROM users WHERE name = {literal(name)}")
        return _user(rows[0]) if rows else None

    def all(self) -> list[User]:
        return [_user(r) for r in self._db.all(f"SELECT {_COLUMNS} FROM users ORDER BY name")]

    def save(self, user: User, *, by: str, at: datetime) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO users (name, role, units, added_at, added_by, agent) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [user.name, user.role, json.dumps(list(user.units)), at, by, user.agent],
        )


def _user(row: dict[str, Any]) -> User:
    return User(row["name"], row["role"], tuple(json.loads(row["units"])), row["agent"])

"""The ledger's users and their roles."""

from __future__ import annotations

import json
from datetime import datetime

from valuegap.governance.roles import User
from valuegap.store.database import Database


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, name: str) -> User | None:
        return self._db.cached(("user", name), lambda: self._read(name))

    def _read(self, name: str) -> User | None:
        row = self._db.one("SELECT name, role, units FROM users WHERE name = ?", [name])
        return None if row is None else User(row[0], row[1], tuple(json.loads(row[2])))

    def all(self) -> list[User]:
        rows = self._db.all("SELECT name, role, units FROM users ORDER BY name")
        return [User(r["name"], r["role"], tuple(json.loads(r["units"]))) for r in rows]

    def save(self, user: User, *, by: str, at: datetime) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)",
            [user.name, user.role, json.dumps(list(user.units)), at, by],
        )

"""Saved ROI scenarios."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from valuegap.store.database import Database


class ScenarioStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(
        self, name: str, initiative: str, changes: dict[str, str], at: datetime, actor: str
    ) -> None:
        """Store a scenario, replacing one of the same name."""
        self._db.execute("DELETE FROM scenarios WHERE name = ?", [name])
        self._db.execute(
            "INSERT INTO scenarios VALUES (?, ?, ?, ?, ?)",
            [name, initiative, json.dumps(changes, sort_keys=True), at, actor],
        )

    def all(self) -> list[dict[str, Any]]:
        rows = self._db.all("SELECT * FROM scenarios ORDER BY name")
        return [{**row, "changes": json.loads(row["changes"])} for row in rows]

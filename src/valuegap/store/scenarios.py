"""Saved ROI scenarios, and the usage a scenario reprices: tokens and requests by model."""

from __future__ import annotations

import json
from datetime import date, datetime
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

    def usage_by_model(self, start: date, end: date) -> list[dict[str, Any]]:
        """Counted calls of the days [start, end), by provider and the model they are priced
        as (the response model, else the requested one): each kind of token, and requests."""
        return self._db.all(
            """SELECT provider, coalesce(response_model, request_model) AS model,
                sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                sum(cache_read_tokens) AS cache_read_tokens,
                sum(cache_write_tokens) AS cache_write_tokens,
                sum(reasoning_tokens) AS reasoning_tokens, count(*) AS requests
            FROM usage_events
            WHERE counted AND ts >= ? AND ts < ?
              AND coalesce(response_model, request_model) IS NOT NULL
            GROUP BY ALL ORDER BY ALL""",
            [start, end],
        )

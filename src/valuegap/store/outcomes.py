"""Reading measured data back: small tables, read whole and analysed in Python."""

from __future__ import annotations

from datetime import date
from typing import Any

from valuegap.store.database import Database
from valuegap.store.literals import literal


class OutcomeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def observations(self) -> list[dict[str, Any]]:
        return self._db.all(
            'SELECT metric, period_start, period_end, "group", phase, n, mean, sd, sum, sum_sq, '
            'volume FROM observations ORDER BY metric, period_start, "group", phase'
        )

    def outcome_counts(self) -> list[dict[str, Any]]:
        return self._db.all(
            "SELECT initiative, metric, period_start, period_end, count, source "
            "FROM outcome_counts ORDER BY initiative, period_start, metric"
        )

    def behaviour(self) -> list[dict[str, Any]]:
        return self._db.all("SELECT * EXCLUDE (ingest_id) FROM behaviour ORDER BY period_start")

    def quality(self) -> list[dict[str, Any]]:
        return self._db.all("SELECT * EXCLUDE (ingest_id) FROM quality ORDER BY period_start")

    def capacity(self) -> list[dict[str, Any]]:
        return self._db.all("SELECT * EXCLUDE (ingest_id) FROM capacity ORDER BY period_start")

    def activity(self, start: date | None, end: date | None) -> dict[str, int]:
        """Usage in [start, end): requests, tokens and distinct pseudonymous users."""
        first, after = literal(start), literal(end)
        row = self._db.one(
            "SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0), "
            "count(DISTINCT user_pseudonym) FROM usage_events "
            f"WHERE ({first} IS NULL OR ts >= {first}) AND ({after} IS NULL OR ts < {after})"
        )
        requests, tokens, users = row if row else (0, 0, 0)
        return {"requests": int(requests), "tokens": int(tokens), "users": int(users)}

    def retirements(self) -> list[dict[str, Any]]:
        return self._db.all(
            "SELECT initiative_id AS initiative, CAST(moved_at AS DATE) AS day, reason "
            "FROM stage_history WHERE to_stage = 'retired'"
        )

"""Chargeback: the business units switched to it, and the statements of their closed months,
kept as they were closed (``outcomes.statements``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from valuegap.store.database import Database
from valuegap.store.literals import literal


class StatementStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def chargeback_units(self) -> list[dict[str, Any]]:
        """Every unit in chargeback: business_unit, from_month, cost_centre, set_at, set_by."""
        return self._db.all("SELECT * FROM chargeback_units ORDER BY business_unit")

    def chargeback_unit(self, unit: str) -> dict[str, Any] | None:
        rows = self._db.all(f"SELECT * FROM chargeback_units WHERE business_unit = {literal(unit)}")
        return rows[0] if rows else None

    def set_chargeback(
        self, unit: str, from_month: date, cost_centre: str | None, at: datetime, actor: str
    ) -> None:
        self._db.execute("DELETE FROM chargeback_units WHERE business_unit = ?", [unit])
        self._db.execute(
            "INSERT INTO chargeback_units VALUES (?, ?, ?, ?, ?)",
            [unit, from_month, cost_centre, at, actor],
        )

    def closed(self, unit: str) -> dict[date, str]:
        """The unit's closed months, each with its statement as stored (JSON text)."""
        rows = self._db.all(
            f"SELECT month, statement FROM closed_statements WHERE business_unit = {literal(unit)}"
        )
        return {row["month"]: row["statement"] for row in rows}

    def closed_months(self) -> dict[str, list[date]]:
        """Every unit's closed months, in order."""
        rows = self._db.all(
            "SELECT business_unit, month FROM closed_statements ORDER BY business_unit, month"
        )
        found: dict[str, list[date]] = {}
        for row in rows:
            found.setdefault(row["business_unit"], []).append(row["month"])
        return found

    def close(self, unit: str, month: date, statement: str, at: datetime, actor: str) -> None:
        """Store a closed month's statement; a closed month's is never replaced."""
        self._db.execute(
            "INSERT INTO closed_statements VALUES (?, ?, ?, ?, ?)",
            [unit, month, statement, at, actor],
        )

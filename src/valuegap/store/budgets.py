"""Budgets (table ``budgets``) and their spend per period (``budget_spend``), which every
write that changes cost computes again for the months it touched (``costs.budgets``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from valuegap.store.database import Database

_COLUMNS = (
    "id",
    "scope",
    "scope_value",
    "period",
    "start_month",
    "end_month",
    "amount",
    "currency",
    "thresholds",
    "hard_limit",
    "set_at",
    "set_by",
)


class BudgetStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[dict[str, Any]]:
        """Every budget, its columns named as ``costs.budget_periods.Budget`` names them."""
        rows = self._db.all(
            """SELECT id, scope, scope_value AS value, period, start_month AS start,
                end_month AS "end", amount, currency, thresholds, hard_limit
            FROM budgets ORDER BY id"""
        )
        return [{**row, "thresholds": json.loads(row["thresholds"])} for row in rows]

    def get(self, budget_id: str) -> dict[str, Any] | None:
        return next((row for row in self.all() if row["id"] == budget_id), None)

    def save(self, budget: Mapping[str, Any], at: datetime, actor: str) -> None:
        """Store a budget (named as ``all`` names it), replacing one with its id (and
        forgetting that one's spend)."""
        thresholds = json.dumps([str(t) for t in budget["thresholds"]])
        row = {
            **budget,
            "scope_value": budget["value"],
            "start_month": budget["start"],
            "end_month": budget["end"],
            "thresholds": thresholds,
            "set_at": at,
            "set_by": actor,
        }
        self.remove(budget["id"])
        marks = ", ".join("?" for _ in _COLUMNS)
        self._db.execute(f"INSERT INTO budgets VALUES ({marks})", [row[c] for c in _COLUMNS])

    def remove(self, budget_id: str) -> None:
        self._db.execute("DELETE FROM budgets WHERE id = ?", [budget_id])
        self._db.execute("DELETE FROM budget_spend WHERE budget = ?", [budget_id])

    def keep_spend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Store each period's spend (budget, period, start_month, end_month, amount, spent),
        replacing what was kept for it."""
        for row in rows:
            self._db.execute(
                "DELETE FROM budget_spend WHERE budget = ? AND period = ?",
                [row["budget"], row["period"]],
            )
            self._db.execute(
                "INSERT INTO budget_spend VALUES (?, ?, ?, ?, ?, ?)",
                [
                    row[c]
                    for c in ("budget", "period", "start_month", "end_month", "amount", "spent")
                ],
            )

    def forget_spend_except(self, budgets: Iterable[str]) -> None:
        """Drop the spend kept for budgets that no longer exist (a business case removed)."""
        self._db.execute(
            "DELETE FROM budget_spend WHERE budget NOT IN (SELECT UNNEST(?::VARCHAR[]))",
            [list(budgets)],
        )

    def spend(self, budget: str | None = None) -> list[dict[str, Any]]:
        """The spend kept per budget and period, latest period first."""
        return self._db.all(
            """SELECT * FROM budget_spend WHERE (CAST(? AS VARCHAR) IS NULL OR budget = ?)
            ORDER BY budget, start_month DESC""",
            [budget, budget],
        )

    def spent_limits(self, month: date) -> list[dict[str, Any]]:
        """The hard-limited budgets whose period holds ``month`` and whose spend has reached
        their amount: id, scope, scope_value, period, amount, spent."""
        return self._db.all(
            """SELECT b.id, b.scope, b.scope_value, s.period, s.amount, s.spent
            FROM budgets b JOIN budget_spend s ON s.budget = b.id
            WHERE b.hard_limit AND s.start_month <= ? AND ? < s.end_month
              AND s.spent >= s.amount
            ORDER BY b.id""",
            [month, month],
        )

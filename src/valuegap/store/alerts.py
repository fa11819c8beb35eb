"""Alerts (table ``alerts``), each raised once (kind, subject, period, level are unique), and
their deliveries to the webhooks (``alert_deliveries``), one row per alert and webhook."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from valuegap.store.database import Database
from valuegap.store.literals import literal

_KEY = ("kind", "subject", "period", "level")


class AlertStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, alert: Mapping[str, Any], webhooks: Sequence[str], at: datetime) -> int | None:
        """Store an alert unless one with its kind, subject, period and level was raised
        already, with a pending delivery to each of ``webhooks``; its id, or None."""
        found = self._db.one(
            "SELECT id FROM alerts WHERE kind = ? AND subject = ? AND period = ? AND level = ?",
            [alert[k] for k in _KEY],
        )
        if found is not None:
            return None
        row = self._db.one(
            """INSERT INTO alerts VALUES (nextval('alerts_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING id""",
            [
                *(alert[k] for k in _KEY),
                alert["message"],
                alert["value"],
                alert["reference"],
                alert["threshold"],
                alert["currency"],
                json.dumps(dict(alert["details"]), sort_keys=True),
                at,
            ],
        )
        assert row is not None
        alert_id = int(row[0])
        for webhook in webhooks:
            self._db.execute(
                "INSERT INTO alert_deliveries VALUES (?, ?, 'pending', 0, NULL, ?, NULL)",
                [alert_id, webhook, at],
            )
        return alert_id

    def alerts(
        self,
        kind: str | None = None,
        subject: str | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
        among: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Alerts (of ``kind``, about ``subject``, among ``ids``, about one of the subjects
        ``among``), newest first, each with its deliveries."""
        # A read writes its values into the SQL (store/literals.py).
        where = [f"kind = {literal(kind)}"] if kind is not None else []
        where += [f"subject = {literal(subject)}"] if subject is not None else []
        if among is not None:
            where.append(f"subject IN ({', '.join(map(literal, among)) or 'NULL'})")
        where += [f"list_contains({_ids(ids)}, id)"] if ids is not None else []
        rows = self._db.all(
            f"SELECT * FROM alerts WHERE {' AND '.join(where) or 'true'} ORDER BY id DESC"
            + ("" if limit is None else f" LIMIT {int(limit)}")
        )
        deliveries: dict[int, list[dict[str, Any]]] = {}
        if rows:
            found_ids = _ids(r["id"] for r in rows)
            for found in self._db.all(
                f"SELECT * FROM alert_deliveries WHERE list_contains({found_ids}, alert) "
                "ORDER BY alert, webhook"
            ):
                deliveries.setdefault(found["alert"], []).append(found)
        return [
            {**r, "details": json.loads(r["details"]), "deliveries": deliveries.get(r["id"], [])}
            for r in rows
        ]

    def pending(self) -> list[dict[str, Any]]:
        """The deliveries still to make, oldest alert first, with their alert's columns."""
        return self._db.all(
            """SELECT d.webhook, d.attempts, a.* FROM alert_deliveries d
            JOIN alerts a ON a.id = d.alert
            WHERE d.state = 'pending' ORDER BY a.id, d.webhook"""
        )

    def attempted(
        self, alert: int, webhook: str, tries: int, error: str | None, at: datetime
    ) -> None:
        """Record ``tries`` attempts: delivered (``error`` None), or failed with ``error``."""
        delivered = error is None
        self._db.execute(
            """UPDATE alert_deliveries SET attempts = attempts + ?, updated_at = ?,
                state = CASE WHEN ? THEN 'delivered' ELSE state END,
                delivered_at = CASE WHEN ? THEN ? END, last_error = ?
            WHERE alert = ? AND webhook = ?""",
            [tries, at, delivered, delivered, at, error, alert, webhook],
        )

    def give_up(self, alert: int, webhook: str, at: datetime) -> None:
        self._db.execute(
            """UPDATE alert_deliveries SET state = 'failed', updated_at = ?
            WHERE alert = ? AND webhook = ? AND state = 'pending'""",
            [at, alert, webhook],
        )


def _ids(ids: Iterable[int]) -> str:
    """``ids`` as a SQL list of BIGINT."""
    return "[" + ", ".join(str(int(i)) for i in ids) + "]::BIGINT[]"

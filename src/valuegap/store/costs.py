"""Ingest records, price overrides and the questions asked of the cost facts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from valuegap.store.database import Database


class CostStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def next_ingest_id(self) -> int:
        row = self._db.one("SELECT coalesce(max(id), 0) + 1 FROM ingests")
        return int(row[0]) if row else 1

    def record_ingest(
        self, ingest_id: int, kind: str, source: str, read: int, added: int, at: datetime,
        actor: str,
    ) -> None:  # fmt: skip
        self._db.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?)",
            [ingest_id, kind, source, read, added, at, actor],
        )

    def set_override(
        self, model: str, valid_from: date, rates: dict[str, Decimal | None], at: datetime,
        actor: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        """Store an override; return the one it replaced, if any."""
        before = self._db.all(
            "SELECT * FROM price_overrides WHERE model = ? AND valid_from = ?", [model, valid_from]
        )
        self._db.execute(
            "INSERT OR REPLACE INTO price_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [model, valid_from, rates["input_per_mtok"], rates["output_per_mtok"],
             rates.get("cache_read_per_mtok"), rates.get("cache_write_per_mtok"), at, actor],
        )  # fmt: skip
        return before[0] if before else None

    def overrides(self) -> list[dict[str, Any]]:
        return self._db.all("SELECT * FROM price_overrides ORDER BY model, valid_from")

    def unpriced(self) -> list[dict[str, Any]]:
        """Events with neither a reported nor a computed cost, by provider and model."""
        return self._db.all(
            """SELECT provider, coalesce(response_model, request_model) AS model,
                count(*) AS events, sum(input_tokens + output_tokens) AS tokens,
                min(ts) AS first_seen, max(ts) AS last_seen
            FROM usage_events WHERE reported_cost IS NULL AND computed_cost IS NULL
            GROUP BY ALL ORDER BY events DESC, model"""
        )

    # Allocation rules and currency rates

    def save_rules(self, rules_json: str, at: datetime, actor: str) -> int:
        row = self._db.one("SELECT coalesce(max(version), 0) + 1 FROM allocation_rules")
        version = int(row[0]) if row else 1
        self._db.execute(
            "INSERT INTO allocation_rules VALUES (?, ?, ?, ?)", [version, rules_json, at, actor]
        )
        return version

    def current_rules(self) -> tuple[int, str] | None:
        row = self._db.one(
            "SELECT version, rules FROM allocation_rules ORDER BY version DESC LIMIT 1"
        )
        return None if row is None else (int(row[0]), str(row[1]))

    def rates(self) -> list[dict[str, Any]]:
        return self._db.all("SELECT * FROM currency_rates ORDER BY valid_from")

    def reconciliation(self) -> list[dict[str, Any]]:
        """Per provider, month and currency: invoiced FOCUS usage of AI services, and the
        computed cost of usage events."""
        return self._db.all(
            """WITH invoiced AS (
                SELECT lower(provider) AS provider,
                    CAST(date_trunc('month', charge_period_start) AS DATE) AS month,
                    billing_currency AS currency, sum(billed_cost) AS invoiced
                FROM focus_lines
                WHERE service_category = 'AI and Machine Learning' AND charge_category = 'Usage'
                GROUP BY ALL
            ), computed AS (
                SELECT provider, CAST(date_trunc('month', ts) AS DATE) AS month,
                    'USD' AS currency, sum(computed_cost) AS computed,
                    count(*) FILTER (WHERE computed_cost IS NULL) AS unpriced_events
                FROM usage_events GROUP BY ALL
            )
            SELECT * FROM invoiced FULL OUTER JOIN computed USING (provider, month, currency)
            ORDER BY month, provider"""
        )

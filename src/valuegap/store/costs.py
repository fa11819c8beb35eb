"""Ingest records, price overrides and the questions asked of the cost facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from valuegap.model.pricing import Override
from valuegap.months import month_ranges
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

    def overrides(self) -> list[Override]:
        rows = self._db.all("SELECT * FROM price_overrides ORDER BY model, provider, valid_from")
        return [Override(**{k: r[k] for k in _OVERRIDE_FIELDS}) for r in rows]

    def save_override(self, override: Override, at: datetime, actor: str) -> None:
        """Store ``override``, replacing the one of its model, provider and first day."""
        self._db.execute(
            f"INSERT OR REPLACE INTO price_overrides ({', '.join(_OVERRIDE_FIELDS)}, set_at, "
            f"set_by) VALUES ({', '.join('?' for _ in _OVERRIDE_FIELDS)}, ?, ?)",
            [*(getattr(override, k) for k in _OVERRIDE_FIELDS), at, actor],
        )

    def delete_override(self, override: Override) -> None:
        self._db.execute(
            "DELETE FROM price_overrides WHERE model = ? AND provider = ? AND valid_from = ?",
            [override.model, override.provider, override.valid_from],
        )

    def unpriced(self) -> list[dict[str, Any]]:
        """Model calls with neither a reported nor a computed cost, by provider and model."""
        return self._db.all(
            """SELECT provider, coalesce(response_model, request_model) AS model,
                min(request_model) AS request_model, count(*) AS events,
                sum(input_tokens + output_tokens) AS tokens,
                min(ts) AS first_seen, max(ts) AS last_seen
            FROM usage_events
            WHERE counted AND reported_cost IS NULL AND computed_cost IS NULL
            GROUP BY ALL ORDER BY events DESC, model"""
        )

    def models_in_use(self) -> list[dict[str, Any]]:
        """The providers that events of each model have, with their count."""
        return self._db.all(
            """SELECT coalesce(response_model, request_model) AS model, provider,
                count(*) AS events
            FROM usage_events WHERE counted GROUP BY ALL ORDER BY model, events DESC"""
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
        """Every currency rate, oldest first; kept until a write of the rates (a statement
        converts its lines and its unit economics with them)."""
        sql = "SELECT * FROM currency_rates ORDER BY valid_from"
        return self._db.cached(
            "currency_rates", lambda: self._db.all(sql), frozenset({"currency_rates"})
        )

    def invoice_lines(self) -> list[dict[str, Any]]:
        """FOCUS lines summed by provider, service, month, currency and charge category:
        billed and list cost, and their invoice ids; kept until a write (a scan of every
        FOCUS line, which the costs page asks for on every view)."""
        return self._db.cached(
            "invoice_lines",
            lambda: self._db.all(
                f"""SELECT provider, service_name AS service, {_MONTH} AS month,
                    billing_currency AS currency, charge_category, sum(billed_cost) AS billed,
                    sum(list_cost) AS list_cost, count(*) AS lines,
                    list(DISTINCT invoice_id ORDER BY invoice_id)
                        FILTER (WHERE invoice_id IS NOT NULL) AS invoice_ids
                FROM focus_lines GROUP BY ALL ORDER BY ALL"""
            ),
        )

    def services_of(self, ingest_id: int) -> list[dict[str, Any]]:
        """The providers, services and months of one ingest's FOCUS lines."""
        return self._db.all(
            f"SELECT DISTINCT provider, service_name AS service, {_MONTH} AS month "
            "FROM focus_lines WHERE ingest_id = ?",
            [ingest_id],
        )

    def lines_of_months(
        self, months: list[Any], ingest_id: int, cost_column: str
    ) -> list[dict[str, Any]]:
        """The FOCUS lines of ``months`` summed by provider, service, month and currency: the
        cost and the number of lines that ingest ``ingest_id`` brought, and the number of lines
        earlier ingests did."""
        return self._db.all(
            f"""SELECT provider, service_name AS service, {_MONTH} AS month,
                billing_currency AS currency,
                sum({_cost(cost_column)}) FILTER (WHERE ingest_id = ?) AS cost,
                count(*) FILTER (WHERE ingest_id = ?) AS lines,
                count(*) FILTER (WHERE ingest_id <> ?) AS earlier_lines
            FROM focus_lines WHERE {_MONTH} IN (SELECT UNNEST(?))
            GROUP BY ALL ORDER BY ALL""",
            [ingest_id, ingest_id, ingest_id, months],
        )

    def usage_providers(self) -> list[str]:
        rows = self._db.all("SELECT DISTINCT provider FROM usage_events WHERE counted")
        return [r["provider"] for r in rows if r["provider"] is not None]

    def usage_by_month(
        self, months: list[Any] | None = None, providers: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Model calls summed by provider, month, currency of their cost, price source and
        service tier (those of ``months`` and ``providers``, if given): their cost as estimated
        (reported, else computed) and as computed, and their tokens. Read from the monthly
        usage aggregates once built, else from the events."""
        where, params = ["TRUE"], []
        if months is not None:
            where.append("month IN (SELECT UNNEST(?))")
            params.append(months)
        if providers is not None:
            where.append("provider IN (SELECT UNNEST(?))")
            params.append(providers)
        source = "usage_monthly" if self._db.get_meta(USAGE_BUILT) else f"({_usage_by_month()})"
        return self._db.all(
            f"SELECT * FROM {source} WHERE {' AND '.join(where)} ORDER BY ALL", params
        )

    def refresh_usage_by_month(self, months: list[Any] | None = None) -> None:
        """Sum the calls of ``months`` (all, if None) again into the monthly usage aggregates
        (a month is summed whole, so its rows are what summing the events gives)."""
        if months is None:
            self._db.execute("DELETE FROM usage_monthly")
            self._db.execute(f"INSERT INTO usage_monthly {_usage_by_month()}")
        elif months:
            months_of = "month IN (SELECT UNNEST(?))"
            self._db.execute(f"DELETE FROM usage_monthly WHERE {months_of}", [months])
            # On the events' times, not on their months: a range of times skips the blocks of
            # events outside it, where a month computed for every event reads them all.
            ranges = month_ranges(months)
            within = " OR ".join(["(ts >= ? AND ts < ?)"] * len(ranges))
            self._db.execute(
                f"INSERT INTO usage_monthly {_usage_by_month(within)}",
                [time for pair in ranges for time in pair],
            )
        self._db.set_meta(USAGE_BUILT, "yes")

    def add_usage_of_ingests(self, first: int, last: int) -> None:
        """Add the calls that the ingests ``first`` to ``last`` appended, which no row of the
        monthly usage aggregates counts yet, to those aggregates. Each aggregate is a count or a
        sum: the new calls' sums are added to their months' rows, and the months are not summed
        again (on a month of 2.7 M calls, that took 3.4 s for every drain of spans into it)."""
        if not self._db.get_meta(USAGE_BUILT):
            return  # read from the events until they are built
        added, merged = "_valuegap_usage_added", "_valuegap_usage_merged"
        # Of the aggregates' own column types, so that their sums are taken in those types.
        self._db.execute(f"CREATE OR REPLACE TEMP TABLE {added} AS FROM usage_monthly LIMIT 0")
        self._db.execute(
            f"INSERT INTO {added} " + _usage_by_month("ingest_id BETWEEN ? AND ?"), [first, last]
        )
        months = f"month IN (SELECT month FROM {added})"
        keys = f"* EXCLUDE ({', '.join(_MONTHLY_SUMS)})"
        sums = ", ".join(f"sum({name}) AS {name}" for name in _MONTHLY_SUMS)
        self._db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {merged} AS SELECT {keys}, {sums} FROM (
                SELECT * FROM usage_monthly WHERE {months}
                UNION ALL BY NAME SELECT * FROM {added}
            ) GROUP BY ALL"""
        )
        self._db.execute(f"DELETE FROM usage_monthly WHERE {months}")
        self._db.execute(f"INSERT INTO usage_monthly BY NAME FROM {merged}")
        self._db.execute(f"DROP TABLE {added}")
        self._db.execute(f"DROP TABLE {merged}")


# The service tier an OpenAI-style call ran in (batch, flex, priority), as instrumentations tag it.
_TIER = (
    "coalesce("
    + ", ".join(
        f"tags['{prefix}openai.{side}.service_tier']"
        for prefix in ("", "gen_ai.")
        for side in ("response", "request")
    )
    + ")"
)
_MONTH = "CAST(date_trunc('month', charge_period_start) AS DATE)"


# The measures of the monthly usage aggregates: each a count or a sum of the month's calls.
_MONTHLY_SUMS = (
    "events",
    "unpriced_events",
    "estimated",
    "computed",
    "reported",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def _usage_by_month(within: str = "TRUE") -> str:
    """Model calls summed by provider, month, currency, price source and service tier; of the
    calls that ``within`` (a condition on their time, or on the ingests that added them) holds
    for."""
    return f"""SELECT provider, CAST(date_trunc('month', ts) AS DATE) AS month,
    coalesce(computed_currency, 'USD') AS computed_currency,
    CASE WHEN reported_cost IS NULL THEN computed_currency ELSE reported_currency END AS currency,
    price_source, lower({_TIER}) AS tier, count(*) AS events,
    count(*) FILTER (WHERE computed_cost IS NULL) AS unpriced_events,
    sum(coalesce(reported_cost, computed_cost)) AS estimated,
    sum(computed_cost) AS computed, sum(reported_cost) AS reported,
    sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens
FROM usage_events WHERE counted AND ({within}) GROUP BY ALL"""


# ledger_meta: set once the monthly usage aggregates (what reconciliation reads) are built.
USAGE_BUILT = "usage_monthly_built"


def _cost(column: str) -> str:
    if column not in ("effective_cost", "billed_cost", "list_cost", "contracted_cost"):
        raise ValueError(f"not a FOCUS cost column: {column}")
    return column


_OVERRIDE_FIELDS = (
    "model",
    "provider",
    "valid_from",
    "valid_to",
    "currency",
    "input_per_mtok",
    "output_per_mtok",
    "cache_read_per_mtok",
    "cache_write_per_mtok",
)

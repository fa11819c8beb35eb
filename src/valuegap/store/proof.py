"""What the audit log proves, read from the tables: the rows of the definition tables, and the
totals per month of the fact tables (``governance/proof.py`` replays the log against them).

Rows are read as JSON values (decimals as text, dates and times in ISO 8601), exactly as an
audit entry keeps them, so that a row replayed from the log and a row read now compare equal.
Totals are exact decimals, kept as text; a measure in money is named with its currency
(``effective_cost USD``). Floating-point columns (an observation's mean and sd, a quality
score) are not summed: binary sums depend on their order. They are proven by the row count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from valuegap.decimals import plain
from valuegap.records import record
from valuegap.store.database import Database

# Each definition table and the columns that identify its rows. The monthly aggregates
# (cost_aggregates, usage_monthly: store/aggregates.py, store/costs.py) are neither definitions
# nor facts: derived from the facts, they are left out of the replay, and rebuilt, not proven.
DEFINITIONS: dict[str, tuple[str, ...]] = {
    "users": ("name",),
    "initiatives": ("id",),
    "metrics": ("id",),
    "stage_history": ("initiative_id", "seq"),
    "control_attestations": ("initiative_id", "control"),
    "policies": ("layer", "scope", "version"),
    "approvals": ("id",),
    "agent_approvals": ("id",),
    "reviews": ("initiative", "as_of"),
    "allocation_rules": ("version",),
    "price_overrides": ("model", "provider", "valid_from"),
    "scenarios": ("name",),
    "chargeback_units": ("business_unit",),
    "closed_statements": ("business_unit", "month"),
    "budgets": ("id",),
}


@record
class Fact:
    """A fact table: the column that dates a row (its month counts), the columns summed (each
    with the column naming its currency, if it is money), and whether an ingest only appends
    rows of its own ``ingest_id`` (else it may replace stored rows)."""

    month: str
    sums: tuple[tuple[str, str | None], ...]
    appends: bool = False


_TOKENS = tuple(
    (f"{kind}_tokens", None)
    for kind in ("input", "output", "cache_read", "cache_write", "reasoning")
)
FACTS: dict[str, Fact] = {
    "focus_lines": Fact(
        "charge_period_start",
        tuple(
            (c, "billing_currency")
            for c in ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
        ),
        appends=True,
    ),
    "usage_events": Fact(
        "ts",
        (*_TOKENS, ("reported_cost", "reported_currency"), ("computed_cost", "computed_currency")),
        appends=True,
    ),
    "manual_costs": Fact("month", (("amount", "currency"),), appends=True),
    "currency_rates": Fact("valid_from", (("rate", "from_currency"),)),
    "observations": Fact(
        "period_start", (("n", None), ("sum", None), ("sum_sq", None), ("volume", None))
    ),
    "outcome_counts": Fact("period_start", (("count", None),)),
    "behaviour": Fact(
        "period_start",
        tuple(
            (c, None)
            for c in ("decisions", "accepted", "overridden", "escalated", "review_minutes")
        ),
    ),
    "quality": Fact("period_start", (("sample_size", None),)),
    "capacity": Fact(
        "period_start", tuple((c, None) for c in ("redeployed", "cost_reduced", "not_captured"))
    ),
}
# The fact table each kind of ingest writes.
INGESTED = {
    "focus": "focus_lines",
    "usage": "usage_events",
    "costs": "manual_costs",
    "rates": "currency_rates",
    "outcomes": "outcome_counts",
}

Totals = dict[str, dict[str, dict[str, Decimal]]]  # table -> month -> measure -> total


def json_value(value: Any) -> Any:
    """A stored value as an audit entry keeps it (a decimal without trailing zeros, so that a
    later change of the column's scale changes nothing)."""
    if isinstance(value, Decimal):
        return str(plain(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def read_rows(
    db: Database, table: str, where: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of a definition table (those matching ``where``, column = value), as JSON
    values, in key order."""
    where = where or {}
    condition = " AND ".join(f'"{column}" = ?' for column in where) or "TRUE"
    order = ", ".join(f'"{column}"' for column in DEFINITIONS[table])
    rows = db.all(f"SELECT * FROM {table} WHERE {condition} ORDER BY {order}", list(where.values()))
    return [{k: json_value(v) for k, v in row.items()} for row in rows]


def fact_table(kind: str) -> str:
    """The fact table an ingest of ``kind`` writes."""
    return INGESTED.get(kind, kind)


def read_totals(db: Database, table: str, ingest_id: int | None = None) -> Totals:
    """A fact table's totals per month; of ingest ``ingest_id``'s rows only, if given, in a
    table where ingests only append."""
    fact = FACTS[table]
    mine = fact.appends and ingest_id is not None
    currencies = "".join(f'"{c}", ' for c in sorted({c for _, c in fact.sums if c}))
    sums = ", ".join(f'CAST(sum("{column}") AS VARCHAR) AS "{column}"' for column, _ in fact.sums)
    rows = db.all(
        f"""SELECT strftime("{fact.month}", '%Y-%m') AS "{fact.month}", {currencies}
            count(*) AS _rows, {sums}
        FROM {table} WHERE {"ingest_id = ?" if mine else "TRUE"} GROUP BY ALL""",
        [ingest_id] if mine else [],
    )
    return {table: rows_totals(fact, rows)} if rows else {}


def rows_totals(fact: Fact, rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Totals per month of ``rows`` (column -> value): SQL's grouped sums (``_rows`` rows
    each), or single rows as an audit entry kept them."""
    found: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        month = found.setdefault(str(row[fact.month])[:7], {})
        _add(month, "rows", Decimal(row.get("_rows", 1)))
        for column, currency in fact.sums:
            if row.get(column) is not None:
                name = f"{column} {row[currency]}" if currency else column
                _add(month, name, Decimal(str(row[column])))
    return found


def _add(totals: dict[str, Decimal], name: str, value: Decimal) -> None:
    totals[name] = totals.get(name, Decimal(0)) + value


def combined(first: Totals, second: Totals, sign: int = 1) -> Totals:
    """``first`` + ``sign`` x ``second``, leaving out what comes to zero (and the totals an
    audit entry kept as text, read as decimals)."""
    found: Totals = {}
    for part, factor in ((first, 1), (second, sign)):
        for table, months in part.items():
            for month, measures in months.items():
                into = found.setdefault(table, {}).setdefault(month, {})
                for name, value in measures.items():
                    _add(into, name, factor * Decimal(value))
    kept: Totals = {}
    for table, months in found.items():
        for month, measures in months.items():
            nonzero = {name: value for name, value in measures.items() if value}
            if nonzero:
                kept.setdefault(table, {})[month] = nonzero
    return kept

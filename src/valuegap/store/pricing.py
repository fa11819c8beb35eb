"""Pricing usage events: organisation overrides first, then the catalogue; else unpriced.

Rates are per token as DECIMAL(38, 18), so that every product is exact; the cost is kept as it
comes, DECIMAL(38, 18) (rounding it to fewer places in SQL takes longer than pricing it). Each
catalogue tier covers a range of input tokens and each override a range of days, so that an
event meets at most one of each in a plain equality join.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from valuegap.costs.pricing import MILLION, CatalogueMatch
from valuegap.store.database import Database

Lookup = Callable[[str | None, str, datetime], CatalogueMatch | None]
_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning", "per_request")

# Columns an event needs for pricing, from a table of events aliased e0.
EVENT_KEYS = """coalesce(e0.provider, '') AS price_provider,
    coalesce(e0.response_model, e0.request_model) AS price_model,
    time_bucket(INTERVAL 30 MINUTE, e0.ts) AS price_bucket, CAST(e0.ts AS DATE) AS price_day"""

JOINS = """LEFT JOIN _valuegap_rates r
      ON r.provider = e.price_provider AND r.model = e.price_model
     AND r.bucket = e.price_bucket AND e.input_tokens > r.above AND e.input_tokens <= r.up_to
    LEFT JOIN _valuegap_overrides o
      ON o.model = e.price_model AND e.price_day >= o.valid_from AND e.price_day < o.valid_to
    LEFT JOIN _valuegap_overrides q
      ON q.model = e.request_model AND e.price_day >= q.valid_from AND e.price_day < q.valid_to"""
_NO_END = 2**62


def _cost(r: str) -> str:
    """The cost of event e at the per-token rates of alias r (see costs.pricing)."""
    return f"""CAST(
      coalesce({r}.input, 0) * (e.input_tokens
          - CASE WHEN {r}.cache_read IS NOT NULL THEN e.cache_read_tokens ELSE 0 END
          - CASE WHEN {r}.cache_write IS NOT NULL THEN e.cache_write_tokens ELSE 0 END)
    + coalesce({r}.cache_read, 0) * e.cache_read_tokens
    + coalesce({r}.cache_write, 0) * e.cache_write_tokens
    + coalesce({r}.output, 0) * (e.output_tokens
          - CASE WHEN {r}.reasoning IS NOT NULL THEN e.reasoning_tokens ELSE 0 END)
    + coalesce({r}.reasoning, 0) * e.reasoning_tokens
    + coalesce({r}.per_request, 0) AS DECIMAL(38, 18))"""


COMPUTED_COST = f"""CASE WHEN o.model IS NOT NULL THEN {_cost("o")}
         WHEN q.model IS NOT NULL THEN {_cost("q")}
         WHEN r.model IS NOT NULL THEN {_cost("r")} END"""
PRICE_SOURCE = """CASE WHEN o.model IS NOT NULL OR q.model IS NOT NULL THEN 'override'
         WHEN r.model IS NOT NULL THEN 'catalogue' END"""


def price_bucket(provider: str, request_model: str, response_model: str, ts: str) -> str:
    """SQL for an event's price bucket, from SQL for its provider, models and time: the
    catalogue is looked up once per provider, model and half hour that events have."""
    return (
        f"{{'provider': {provider}, 'model': coalesce({response_model}, {request_model}), "
        f"'bucket': time_bucket(INTERVAL 30 MINUTE, {ts})}}"
    )


def prepare_rates(db: Database, lookup: Lookup, buckets: Iterable[Mapping[str, Any]]) -> None:
    """Rate tables for events in ``buckets`` (each a ``price_bucket``): catalogue rates for
    each provider, model and half hour, and every override."""
    rows = []
    for found in buckets:
        if found["model"] is None:
            continue
        match = lookup(found["provider"], found["model"], found["bucket"])
        tiers = match.rates if match else ()
        for n, rates in enumerate(tiers):
            up_to = tiers[n + 1].above if n + 1 < len(tiers) else _NO_END
            rows.append({"provider": found["provider"] or "", "model": found["model"],
                         "bucket": found["bucket"], "above": rates.above, "up_to": up_to,
                         **{f: getattr(rates, f) for f in _FIELDS}})  # fmt: skip
    keys = {"provider": "VARCHAR", "model": "VARCHAR", "bucket": "TIMESTAMP",
            "above": "BIGINT", "up_to": "BIGINT"}  # fmt: skip
    _rates_table(db, "_valuegap_rates", keys, rows)
    stored = db.all("SELECT * FROM price_overrides ORDER BY model, valid_from")
    overrides = [
        {"model": o["model"], "valid_from": o["valid_from"],
         "valid_to": nxt["valid_from"] if nxt and nxt["model"] == o["model"] else date.max,
         "input": o["input_per_mtok"] / MILLION, "output": o["output_per_mtok"] / MILLION,
         "cache_read": _per_token(o["cache_read_per_mtok"]),
         "cache_write": _per_token(o["cache_write_per_mtok"]),
         "reasoning": None, "per_request": None}
        for o, nxt in zip(stored, [*stored[1:], None], strict=False)
    ]  # fmt: skip
    keys = {"model": "VARCHAR", "valid_from": "DATE", "valid_to": "DATE"}
    _rates_table(db, "_valuegap_overrides", keys, overrides)


def drop_rates(db: Database) -> None:
    db.execute("DROP TABLE IF EXISTS _valuegap_rates")
    db.execute("DROP TABLE IF EXISTS _valuegap_overrides")


def reprice(db: Database, lookup: Lookup, model: str) -> int:
    """Price again the stored events of ``model`` (requested or responding); return how many."""
    events = "usage_events e0 WHERE ? IN (e0.request_model, e0.response_model)"
    params = [model]
    bucket = price_bucket("e0.provider", "e0.request_model", "e0.response_model", "e0.ts")
    buckets = db.all(f"SELECT DISTINCT UNNEST({bucket}) FROM {events}", params)
    prepare_rates(db, lookup, buckets)
    repriced = db.one(
        f"""UPDATE usage_events SET computed_cost = p.cost, price_source = p.source FROM (
            SELECT e.rid, {COMPUTED_COST} AS cost, {PRICE_SOURCE} AS source
            FROM (SELECT e0.rowid AS rid, e0.*, {EVENT_KEYS} FROM {events}) e
            {JOINS}
        ) p WHERE usage_events.rowid = p.rid""",
        params,
    )
    drop_rates(db)
    return int(repriced[0]) if repriced else 0


def _rates_table(db: Database, name: str, keys: dict[str, str], rows: list[dict[str, Any]]) -> None:
    columns = {**keys, **{field: "DECIMAL(38, 18)" for field in _FIELDS}}
    db.execute(f"CREATE OR REPLACE TEMP TABLE {name} ("
               + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")  # fmt: skip
    if not rows:
        return
    data = {
        c: pa.array([None if r[c] is None else str(r[c]) for r in rows], pa.string())
        if c in _FIELDS else [r[c] for r in rows]
        for c in columns
    }  # fmt: skip
    db.insert_arrow(name, pa.table(data))


def _per_token(per_million: Decimal | None) -> Decimal | None:
    return None if per_million is None else per_million / MILLION

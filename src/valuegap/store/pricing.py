"""Pricing stored usage events: catalogue rates first, then organisation overrides.

``where`` is an SQL condition over the events, aliased ``e``. Rates are per token as
DECIMAL(38, 18), so that every product is exact; the cost is kept as DECIMAL(38, 10).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from valuegap.costs.pricing import MILLION, CatalogueMatch
from valuegap.store.database import Database

_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning", "per_request")

# The cost of one event e from per-token rates r (see costs.pricing for the formula).
_COST = """CAST(
      coalesce(r.input, 0) * (e.input_tokens
          - CASE WHEN r.cache_read IS NOT NULL THEN e.cache_read_tokens ELSE 0 END
          - CASE WHEN r.cache_write IS NOT NULL THEN e.cache_write_tokens ELSE 0 END)
    + coalesce(r.cache_read, 0) * e.cache_read_tokens
    + coalesce(r.cache_write, 0) * e.cache_write_tokens
    + coalesce(r.output, 0) * (e.output_tokens
          - CASE WHEN r.reasoning IS NOT NULL THEN e.reasoning_tokens ELSE 0 END)
    + coalesce(r.reasoning, 0) * e.reasoning_tokens
    + coalesce(r.per_request, 0) AS DECIMAL(38, 10))"""


def price_events(
    db: Database,
    lookup: Callable[[str | None, str, datetime], CatalogueMatch | None],
    where: str = "TRUE",
    params: list[Any] | None = None,
) -> None:
    """(Re)price the events matching ``where``: catalogue, then overrides; the rest unpriced."""
    params = params or []
    db.execute(
        f"UPDATE usage_events e SET computed_cost = NULL, price_source = NULL WHERE {where}",
        params,
    )
    buckets = db.all(
        "SELECT DISTINCT provider, coalesce(response_model, request_model) AS model, "
        f"time_bucket(INTERVAL 30 MINUTE, ts) AS bucket FROM usage_events e WHERE {where}",
        params,
    )
    rows = []
    for found in buckets:
        match = lookup(found["provider"], found["model"], found["bucket"])
        for rates in match.rates if match else ():
            rows.append({"provider": found["provider"], "model": found["model"],
                         "bucket": found["bucket"], "above": rates.above,
                         **{n: getattr(rates, n) for n in _FIELDS}})  # fmt: skip
    _rates_table(
        db,
        "_valuegap_rates",
        {"provider": "VARCHAR", "model": "VARCHAR", "bucket": "TIMESTAMP", "above": "BIGINT"},
        rows,
    )
    _update(
        db,
        "catalogue",
        """JOIN _valuegap_rates r
              ON r.provider IS NOT DISTINCT FROM e.provider
             AND r.model = coalesce(e.response_model, e.request_model)
             AND r.bucket = time_bucket(INTERVAL 30 MINUTE, e.ts)
             AND e.input_tokens > r.above""",
        "r.above DESC",
        where,
        params,
    )
    overrides = [
        {"model": o["model"], "valid_from": o["valid_from"],
         "input": o["input_per_mtok"] / MILLION, "output": o["output_per_mtok"] / MILLION,
         "cache_read": _per_token(o["cache_read_per_mtok"]),
         "cache_write": _per_token(o["cache_write_per_mtok"]),
         "reasoning": None, "per_request": None}
        for o in db.all("SELECT * FROM price_overrides")
    ]  # fmt: skip
    _rates_table(db, "_valuegap_overrides", {"model": "VARCHAR", "valid_from": "DATE"}, overrides)
    _update(
        db,
        "override",
        """JOIN _valuegap_overrides r
              ON r.model IN (e.request_model, e.response_model)
             AND CAST(e.ts AS DATE) >= r.valid_from""",
        "r.valid_from DESC",
        where,
        params,
    )
    db.execute("DROP TABLE _valuegap_rates")
    db.execute("DROP TABLE _valuegap_overrides")


def _update(
    db: Database, source: str, join: str, latest: str, where: str, params: list[Any]
) -> None:
    db.execute(
        f"""UPDATE usage_events SET computed_cost = p.cost, price_source = '{source}' FROM (
            SELECT e.rowid AS rid, {_COST} AS cost FROM usage_events e {join}
            WHERE {where}
            QUALIFY row_number() OVER (PARTITION BY e.rowid ORDER BY {latest}) = 1
        ) p WHERE usage_events.rowid = p.rid""",
        params,
    )


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

"""Pricing usage events: organisation overrides first, then the catalogue; else unpriced.

Rates are per token as DECIMAL(38, 18), so that every product is exact; the cost is kept as it
comes, DECIMAL(38, 18) (rounding it to fewer places in SQL takes longer than pricing it). Each
catalogue tier covers a range of input tokens and each override a range of days, so that an
event meets at most one of each in a plain equality join.

A rate table holds, besides the input and output rates, how much more (or less) a cached or
reasoning token costs than the input or output token it is part of, so that the cost of
``costs.pricing`` is one sum of products:

    input x input_tokens + cache_read_delta x cache_read_tokens
  + cache_write_delta x cache_write_tokens + output x output_tokens
  + reasoning_delta x reasoning_tokens + per_request

Products of DECIMAL(38, 18) are 128-bit and slow; so each rate is also kept in whole
pico-dollars (BIGINT) when it is one, and events whose rates and token counts are all small
enough for that sum to fit 64 bits are priced in integers, ten times faster, then scaled back:
the same exact cost. Nearly all catalogue prices have at most six decimals per million tokens,
so whole pico-dollars per token; any other price (a catalogue price with a binary float's
digits, an override with more decimals) is priced in DECIMAL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from valuegap.costs.pricing import MILLION, CatalogueMatch, Rates
from valuegap.store.database import Database

Lookup = Callable[[str | None, str, datetime], CatalogueMatch | None]
_TOKENS = {  # rate -> the tokens it prices
    "input": "input_tokens", "cache_read_delta": "cache_read_tokens",
    "cache_write_delta": "cache_write_tokens", "output": "output_tokens",
    "reasoning_delta": "reasoning_tokens",
}  # fmt: skip
_RATES = (*_TOKENS, "per_request")
_PICO = Decimal(10**12)  # pico-dollars in a dollar
_SMALL = 10**9  # rates (in pico-dollars) and token counts below it: a cost fits 64 bits

# Columns an event needs for pricing, from a table of events aliased e0.
EVENT_KEYS = """coalesce(e0.provider, '') AS price_provider,
    coalesce(e0.response_model, e0.request_model) AS price_model,
    time_bucket(INTERVAL 30 MINUTE, e0.ts) AS price_bucket, CAST(e0.ts AS DATE) AS price_day"""

_CATALOGUE_JOIN = """LEFT JOIN _valuegap_rates r
      ON r.provider = e.price_provider AND r.model = e.price_model
     AND r.bucket = e.price_bucket AND e.input_tokens > r.above AND e.input_tokens <= r.up_to"""
_OVERRIDE_JOINS = """LEFT JOIN _valuegap_overrides o
      ON o.model = e.price_model AND e.price_day >= o.valid_from AND e.price_day < o.valid_to
    LEFT JOIN _valuegap_overrides q
      ON q.model = e.request_model AND e.price_day >= q.valid_from AND e.price_day < q.valid_to"""
_NO_END = 2**62


def _cost(r: str) -> str:
    """The cost of event e at the rates of alias r."""

    def total(unit: str) -> str:
        products = [f"{r}.{rate}{unit} * e.{tokens}" for rate, tokens in _TOKENS.items()]
        return " + ".join([*products, f"{r}.per_request{unit}"])

    small = " AND ".join(f"e.{tokens} < {_SMALL}" for tokens in _TOKENS.values())
    return f"""CASE WHEN {r}.input_pico IS NOT NULL AND {small}
        THEN CAST(CAST({total("_pico")} AS DECIMAL(38, 0)) * 0.000000000001 AS DECIMAL(38, 18))
        ELSE CAST({total("")} AS DECIMAL(38, 18)) END"""


@dataclass(frozen=True)
class Pricing:
    """SQL that prices events e (with ``EVENT_KEYS``) at the rate tables ``prepare_rates`` made:
    ``joins`` to add to their FROM, then ``cost`` and ``source`` to select."""

    joins: str
    cost: str
    source: str


_CATALOGUE_ONLY = Pricing(
    _CATALOGUE_JOIN,
    f"CASE WHEN r.model IS NOT NULL THEN {_cost('r')} END",
    "CASE WHEN r.model IS NOT NULL THEN 'catalogue' END",
)
_WITH_OVERRIDES = Pricing(  # two joins only when there are overrides: each costs its time
    f"{_CATALOGUE_JOIN}\n    {_OVERRIDE_JOINS}",
    f"""CASE WHEN o.model IS NOT NULL THEN {_cost("o")}
         WHEN q.model IS NOT NULL THEN {_cost("q")}
         WHEN r.model IS NOT NULL THEN {_cost("r")} END""",
    """CASE WHEN o.model IS NOT NULL OR q.model IS NOT NULL THEN 'override'
         WHEN r.model IS NOT NULL THEN 'catalogue' END""",
)


def price_bucket(provider: str, request_model: str, response_model: str, ts: str) -> str:
    """SQL for an event's price bucket, from SQL for its provider, models and time: the
    catalogue is looked up once per provider, model and half hour that events have."""
    return (
        f"{{'provider': {provider}, 'model': coalesce({response_model}, {request_model}), "
        f"'bucket': time_bucket(INTERVAL 30 MINUTE, {ts})}}"
    )


def prepare_rates(db: Database, lookup: Lookup, buckets: Iterable[Mapping[str, Any]]) -> Pricing:
    """Rate tables for events in ``buckets`` (each a ``price_bucket``): catalogue rates for
    each provider, model and half hour, and every override; and the SQL to price with them."""
    rows = []
    for found in buckets:
        if found["model"] is None or found["bucket"] is None:
            continue  # unpriced; or a row that a check refuses
        match = lookup(found["provider"], found["model"], found["bucket"])
        tiers = match.rates if match else ()
        for n, rates in enumerate(tiers):
            up_to = tiers[n + 1].above if n + 1 < len(tiers) else _NO_END
            rows.append({"provider": found["provider"] or "", "model": found["model"],
                         "bucket": found["bucket"], "above": rates.above, "up_to": up_to,
                         **_rate_columns(rates)})  # fmt: skip
    keys = {"provider": "VARCHAR", "model": "VARCHAR", "bucket": "TIMESTAMP",
            "above": "BIGINT", "up_to": "BIGINT"}  # fmt: skip
    _rates_table(db, "_valuegap_rates", keys, rows)
    stored = db.all("SELECT * FROM price_overrides ORDER BY model, valid_from")
    overrides = [
        {"model": o["model"], "valid_from": o["valid_from"],
         "valid_to": nxt["valid_from"] if nxt and nxt["model"] == o["model"] else date.max,
         **_rate_columns(Rates(-1, o["input_per_mtok"] / MILLION, o["output_per_mtok"] / MILLION,
                               _per_token(o["cache_read_per_mtok"]),
                               _per_token(o["cache_write_per_mtok"])))}
        for o, nxt in zip(stored, [*stored[1:], None], strict=False)
    ]  # fmt: skip
    keys = {"model": "VARCHAR", "valid_from": "DATE", "valid_to": "DATE"}
    _rates_table(db, "_valuegap_overrides", keys, overrides)
    return _WITH_OVERRIDES if overrides else _CATALOGUE_ONLY


def _rate_columns(rates: Rates) -> dict[str, Decimal | int | None]:
    """A rate table's columns for ``rates``: a cached or reasoning token without a rate of its
    own costs what the input or output token it is part of costs (a delta of 0); and each
    rate in pico-dollars, if all are whole and small."""
    input_rate, output_rate = rates.input or Decimal(0), rates.output or Decimal(0)

    def delta(rate: Decimal | None, base: Decimal) -> Decimal:
        return Decimal(0) if rate is None else rate - base

    exact = {"input": input_rate, "output": output_rate,
             "cache_read_delta": delta(rates.cache_read, input_rate),
             "cache_write_delta": delta(rates.cache_write, input_rate),
             "reasoning_delta": delta(rates.reasoning, output_rate),
             "per_request": rates.per_request or Decimal(0)}  # fmt: skip
    pico = {f"{rate}_pico": value * _PICO for rate, value in exact.items()}
    whole = all(p == p.to_integral_value() and abs(p) < _SMALL for p in pico.values())
    return {**exact, **{name: int(p) if whole else None for name, p in pico.items()}}


def drop_rates(db: Database) -> None:
    db.execute("DROP TABLE IF EXISTS _valuegap_rates")
    db.execute("DROP TABLE IF EXISTS _valuegap_overrides")


def reprice(db: Database, lookup: Lookup, model: str) -> int:
    """Price again the stored events of ``model`` (requested or responding); return how many."""
    events = "usage_events e0 WHERE ? IN (e0.request_model, e0.response_model)"
    params = [model]
    bucket = price_bucket("e0.provider", "e0.request_model", "e0.response_model", "e0.ts")
    buckets = db.all(f"SELECT DISTINCT UNNEST({bucket}) FROM {events}", params)
    pricing = prepare_rates(db, lookup, buckets)
    repriced = db.one(
        f"""UPDATE usage_events SET computed_cost = p.cost, price_source = p.source FROM (
            SELECT e.rid, {pricing.cost} AS cost, {pricing.source} AS source
            FROM (SELECT e0.rowid AS rid, e0.*, {EVENT_KEYS} FROM {events}) e
            {pricing.joins}
        ) p WHERE usage_events.rowid = p.rid""",
        params,
    )
    drop_rates(db)
    return int(repriced[0]) if repriced else 0


def _rates_table(db: Database, name: str, keys: dict[str, str], rows: list[dict[str, Any]]) -> None:
    columns = {**keys, **{rate: "DECIMAL(38, 18)" for rate in _RATES},
               **{f"{rate}_pico": "BIGINT" for rate in _RATES}}  # fmt: skip
    db.execute(f"CREATE OR REPLACE TEMP TABLE {name} ("
               + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")  # fmt: skip
    if not rows:
        return
    data = {
        c: pa.array([str(r[c]) for r in rows], pa.string()) if c in _RATES else [r[c] for r in rows]
        for c in columns
    }  # fmt: skip
    db.insert_arrow(name, pa.table(data))


def _per_token(per_million: Decimal | None) -> Decimal | None:
    return None if per_million is None else per_million / MILLION

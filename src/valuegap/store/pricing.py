"""Pricing usage events in SQL at the rates a ``Pricer`` finds for them.

Events are priced by bucket: their provider, the model they are priced as (the response model,
else the request model), the half hour, and, where the organisation has overrides (which may
name the requested model), the requested model. ``prepare_rates`` asks the pricer once per
bucket that the events have (an organisation override in force that day, else the catalogue's
rates, one row per tier of input tokens, else nothing) and writes a rate table; one equality
join then prices every event.

Rates are per token as DECIMAL(38, 18), so that every product is exact; the cost is kept as it
comes, DECIMAL(38, 18) (rounding it to fewer places in SQL takes longer than pricing it). A rate
table holds, besides the input and output rates, how much more (or less) a cached or reasoning
token costs than the input or output token it is part of, so that the cost of
``model.pricing`` is one sum of products:

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

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.bounds import MAX_USAGE_COST
from valuegap.errors import IngestError, ValidationError
from valuegap.model.pricing import Pricer, Rates
from valuegap.records import record
from valuegap.store.database import Database
from valuegap.words import counted

_TOKENS = {  # rate -> the tokens it prices
    "input": "input_tokens",
    "cache_read_delta": "cache_read_tokens",
    "cache_write_delta": "cache_write_tokens",
    "output": "output_tokens",
    "reasoning_delta": "reasoning_tokens",
}
_RATES = (*_TOKENS, "per_request")
_PICO = Decimal(10**12)  # pico-units in a unit of currency
_SMALL = 10**9  # rates (in pico-units) and token counts below it: a cost fits 64 bits
_RATE_TABLE = "_valuegap_rates"

_NO_END = 2**62


@record
class Pricing:
    """SQL that prices events at the rate table ``prepare_rates`` made: ``keys``, the columns
    an event needs from a table of events aliased e0; ``join``, to add to the FROM of events e
    (with those keys); then select COST, SOURCE and CURRENCY."""

    by_request: bool

    @property
    def keys(self) -> str:
        request = "coalesce(e0.request_model, '')" if self.by_request else "''"
        return f"""coalesce(e0.provider, '') AS price_provider,
            coalesce(e0.response_model, e0.request_model) AS price_model,
            {request} AS price_request, time_bucket(INTERVAL 30 MINUTE, e0.ts) AS price_bucket"""

    @property
    def join(self) -> str:
        request = " AND r.request = e.price_request" if self.by_request else ""
        return f"""LEFT JOIN {_RATE_TABLE} r
              ON r.provider = e.price_provider AND r.model = e.price_model
             AND r.bucket = e.price_bucket AND e.input_tokens > r.above
             AND e.input_tokens <= r.up_to{request}"""


def _cost() -> str:
    def total(unit: str) -> str:
        products = [f"r.{rate}{unit} * e.{tokens}" for rate, tokens in _TOKENS.items()]
        return " + ".join([*products, f"r.per_request{unit}"])

    small = " AND ".join(f"e.{tokens} < {_SMALL}" for tokens in _TOKENS.values())
    return f"""CASE WHEN r.model IS NULL THEN NULL
        WHEN r.input_pico IS NOT NULL AND {small}
        THEN CAST(CAST({total("_pico")} AS DECIMAL(38, 0)) * 0.000000000001 AS DECIMAL(38, 18))
        ELSE CAST({total("")} AS DECIMAL(38, 18)) END"""


COST = _cost()
SOURCE = "r.source"
CURRENCY = "r.currency"


def price_bucket(
    pricer: Pricer, provider: str, request_model: str, response_model: str, ts: str
) -> str:
    """SQL for an event's price bucket, from SQL for its provider, models and time (a missing
    provider or requested model as '', as the rate table keys them)."""
    request = f"coalesce({request_model}, '')" if pricer.overrides else "''"
    return (
        f"{{'provider': coalesce({provider}, ''), "
        f"'model': coalesce({response_model}, {request_model}), "
        f"'request': {request}, 'bucket': time_bucket(INTERVAL 30 MINUTE, {ts})}}"
    )


def prepare_rates(db: Database, pricer: Pricer, buckets: Iterable[Mapping[str, Any]]) -> Pricing:
    """The rate table for events in ``buckets`` (each a ``price_bucket``), and the SQL that
    prices with it."""
    rows = rate_rows(pricer, buckets)
    keys = {
        "provider": "VARCHAR",
        "model": "VARCHAR",
        "request": "VARCHAR",
        "bucket": "TIMESTAMP",
        "above": "BIGINT",
        "up_to": "BIGINT",
        "source": "VARCHAR",
        "currency": "VARCHAR",
    }
    columns = {
        **keys,
        **{rate: "DECIMAL(38, 18)" for rate in _RATES},
        **{f"{rate}_pico": "BIGINT" for rate in _RATES},
    }
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {_RATE_TABLE} ("
        + ", ".join(f"{c} {t}" for c, t in columns.items())
        + ")"
    )
    if rows:
        import pyarrow as pa

        data = {
            c: pa.array([str(r[c]) for r in rows], pa.string())
            if c in _RATES
            else [r[c] for r in rows]
            for c in columns
        }
        db.insert_arrow(_RATE_TABLE, pa.table(data))
    return Pricing(by_request=bool(pricer.overrides))


def rate_rows(pricer: Pricer, buckets: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rate table's rows for events in ``buckets`` (each with the provider, the priced
    model, the requested model and the half hour, as ``price_bucket`` gives them): one per
    tier of input tokens of each bucket a price covers."""
    rows: list[dict[str, Any]] = []
    seen = set()
    for found in buckets:
        key = (found["provider"], found["model"], found["request"], found["bucket"])
        if found["model"] is None or found["bucket"] is None or key in seen:
            continue  # unpriced; or a row that a check refuses; or priced already
        seen.add(key)
        price = pricer.price(found["provider"] or None, found["model"], found["request"] or None,
                             found["bucket"])  # fmt: skip
        if price is None:
            continue
        tiers = price.tiers
        for n, rates in enumerate(tiers):
            up_to = tiers[n + 1].above if n + 1 < len(tiers) else _NO_END
            rows.append(
                {
                    "provider": found["provider"],
                    "model": found["model"],
                    "request": found["request"],
                    "bucket": found["bucket"],
                    "above": rates.above,
                    "up_to": up_to,
                    "source": price.source,
                    "currency": price.currency,
                    **_rate_columns(rates),
                }
            )
    return rows


RATE_COLUMNS = _RATES
RATE_TOKENS = _TOKENS  # rate -> the tokens it prices


def _rate_columns(rates: Rates) -> dict[str, Decimal | int | None]:
    """A rate table's columns for ``rates``: a cached or reasoning token without a rate of its
    own costs what the input or output token it is part of costs (a delta of 0); and each
    rate in pico-units, if all are whole and small."""
    input_rate, output_rate = rates.input or Decimal(0), rates.output or Decimal(0)

    def delta(rate: Decimal | None, base: Decimal) -> Decimal:
        return Decimal(0) if rate is None else rate - base

    exact = {
        "input": input_rate,
        "output": output_rate,
        "cache_read_delta": delta(rates.cache_read, input_rate),
        "cache_write_delta": delta(rates.cache_write, input_rate),
        "reasoning_delta": delta(rates.reasoning, output_rate),
        "per_request": rates.per_request or Decimal(0),
    }
    pico = {f"{rate}_pico": value * _PICO for rate, value in exact.items()}
    whole = all(p == p.to_integral_value() and abs(p) < _SMALL for p in pico.values())
    return {**exact, **{name: int(p) if whole else None for name, p in pico.items()}}


def drop_rates(db: Database) -> None:
    db.execute(f"DROP TABLE IF EXISTS {_RATE_TABLE}")


def reprice(
    db: Database,
    pricer: Pricer,
    model: str | None = None,
    days: tuple[date, date | None] | None = None,
) -> int:
    """Price again the stored usage events (those of ``model``, requested or responding, and
    of the ``days`` [first, end), if given) at ``pricer``'s rates; return how many changed
    cost, currency or source."""
    events = "usage_events e0 WHERE e0.counted"
    params: list[Any] = []
    if model is not None:
        events += " AND ? IN (e0.request_model, e0.response_model)"
        params.append(model)
    if days is not None:
        events += " AND e0.ts >= ?" + ("" if days[1] is None else " AND e0.ts < ?")
        params += [days[0]] if days[1] is None else list(days)
    bucket = price_bucket(pricer, "e0.provider", "e0.request_model", "e0.response_model", "e0.ts")
    buckets = db.all(f"SELECT DISTINCT {bucket} AS b FROM {events}", params)
    pricing = prepare_rates(db, pricer, [row["b"] for row in buckets])
    changed = db.one(
        f"""UPDATE usage_events SET computed_cost = p.cost, price_source = p.source,
            computed_currency = p.currency
        FROM (
            SELECT e.rid, {COST} AS cost, {SOURCE} AS source, {CURRENCY} AS currency
            FROM (SELECT e0.rowid AS rid, e0.*, {pricing.keys} FROM {events}) e
            {pricing.join}
        ) p
        WHERE usage_events.rowid = p.rid
          AND (usage_events.computed_cost IS DISTINCT FROM p.cost
               OR usage_events.price_source IS DISTINCT FROM p.source
               OR usage_events.computed_currency IS DISTINCT FROM p.currency)""",
        params,
    )
    drop_rates(db)
    refuse_overpriced(db, "rowid IN (SELECT e0.rowid FROM " + events + ")", params)
    return int(changed[0]) if changed else 0


def refuse_overpriced(db: Database, where: str, params: list[Any], file: str | None = None) -> None:
    """Raise an error (an ``IngestError`` for ``file``) if a priced event among those ``where``
    selects costs more than a usage event may (``valuegap.bounds``), naming the first."""
    found = db.one(
        f"""SELECT count(*), arg_min(event_key, ts), arg_min(ts, ts),
            arg_min(coalesce(response_model, request_model), ts),
            arg_min(input_tokens + output_tokens, ts), arg_min(computed_cost, ts)
        FROM usage_events WHERE {where} AND abs(computed_cost) >= {MAX_USAGE_COST}""",
        params,
    )
    if not found or not found[0]:
        return
    count, key, ts, model, tokens, cost = found
    value = f"{cost.normalize():f} for {tokens:,} tokens of {model} at {ts:%Y-%m-%d %H:%M}"
    message = (
        f"{counted(count, 'call')} would cost more than a usage event may (less than "
        f"{MAX_USAGE_COST:,.0f} in size, so that every total fits): check the price per "
        "million tokens and the token counts"
    )
    if file is not None:
        raise IngestError(file, [IngestError.at(file, None, f"(call {key})", value, message)])
    problem = IngestError.at("usage_events", None, f"(call {key})", value, message)
    raise ValidationError("The calls were not priced; nothing changed.", [problem])

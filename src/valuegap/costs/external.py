"""External facts in the ledger's shape, on the engine: a FOCUS export's columns as
``focus_lines`` has them, a usage log's (through its column mapping) as ``usage_events`` has
them, priced on the engine by a join with a small table of rates. Each value is checked as
ingest checks it, and a bad one is named with its file and row.

The rollup (``costs.rollup``) then sums these tables as it sums the ledger's own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from valuegap.bounds import MAX_AMOUNT, MAX_TOKENS, MAX_USAGE_COST, too_large
from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.model.focus import CHARGE_CATEGORIES, COLUMNS, CORRECTION, PROVIDER_COLUMNS
from valuegap.model.focus import NOT_NEGATIVE_CATEGORIES as NOT_NEGATIVE
from valuegap.model.pricing import Pricer
from valuegap.model.usage import FIELDS, INFERENCE_OPERATIONS, TOKEN_FIELDS
from valuegap.records import record

AMOUNT = dt.Decimal(38, 10)
RATE = dt.Decimal(38, 18)
MAX_PROBLEMS = 20
USAGE_SOURCE = "csv"  # as a usage file ingested with a column mapping is stored


@record
class Check:
    """A value a column must keep: ``bad`` is true for a bad value."""

    column: str
    bad: Any
    message: str
    value: Any


class Columns:
    """A source's columns, found by name in any letter case."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = {n.lower(): n for n in names if not n.startswith("_")}

    def get(self, name: str) -> str | None:
        return self._names.get(name.lower())


def focus_problems(columns: Sequence[str], location: str) -> list[Problem]:
    """The FOCUS columns a source with ``columns`` lacks."""
    found = Columns(columns)
    lacking = [c.name for c in COLUMNS if c.required and found.get(c.name) is None]
    if not any(found.get(p) for p in PROVIDER_COLUMNS):
        lacking.append("ServiceProviderName (or ProviderName)")
    return [
        Problem(f"{location}, column {name!r}", "is a required FOCUS column but is missing")
        for name in lacking
    ]


def focus_table(t: ibis.Table) -> tuple[ibis.Table, list[Check]]:
    """A FOCUS export read by the engine (``_file``, ``_row``, and ``_bad_<Tags>``), as
    ``focus_lines``' columns, with the checks of its values."""
    found = Columns(t.columns)
    checks: list[Check] = []
    values: dict[str, Any] = {}
    for column in COLUMNS:
        name = found.get(column.name)
        if name is None:
            values[column.field] = ibis.null().cast(_type(column.type))
            continue
        raw = t[name]
        value = _converted(raw, column.type)
        values[column.field] = value
        if column.required:
            checks.append(Check(name, raw.isnull(), "is required; the value is empty", raw))
        if column.type == "timestamp":
            message = "is not a timestamp (ISO 8601, e.g. 2025-01-01T00:00:00Z)"
            checks.append(Check(name, raw.notnull() & value.isnull(), message, raw))
        elif column.type in ("money", "decimal"):
            checks.append(
                Check(name, raw.notnull() & value.isnull(), "is not a decimal number", raw)
            )
        elif column.type == "currency":
            checks.append(
                Check(
                    name,
                    raw.notnull() & ~value.re_search("^[A-Z]{3}$"),
                    "is not an ISO 4217 currency code such as USD",
                    raw,
                )
            )
        elif column.type == "json":
            checks.append(
                Check(name, t[f"_bad_{name}"], 'is not a JSON object such as {"team": "ml"}', raw)
            )
    charge = found.get("ChargeCategory")
    charge_class = found.get("ChargeClass")
    for column in COLUMNS:
        name = found.get(column.name)
        if column.type != "money" or name is None:
            continue
        amount = values[column.field]
        checks.append(
            Check(
                name, amount.abs() >= _bound(MAX_AMOUNT), too_large("a cost", MAX_AMOUNT), t[name]
            )
        )
        if charge:
            refused = t[charge].isin(NOT_NEGATIVE) & (amount < 0)
            if charge_class:
                refused &= t[charge_class].isnull() | (t[charge_class] != CORRECTION)
            message = (
                f"is negative on a {' or '.join(NOT_NEGATIVE)} line: a refund, discount or "
                "credit is a Credit line, a later change an Adjustment"
            )
            checks.append(Check(name, refused, message, t[name]))
    if charge:
        checks.append(
            Check(
                charge,
                t[charge].notnull() & ~t[charge].isin(CHARGE_CATEGORIES),
                f"must be one of {', '.join(CHARGE_CATEGORIES)}",
                t[charge],
            )
        )
    providers = [t[p].cast("string") for p in map(found.get, PROVIDER_COLUMNS) if p]
    provider = ibis.coalesce(*providers) if len(providers) > 1 else providers[0]
    checks.append(
        Check(
            found.get(PROVIDER_COLUMNS[0]) or found.get(PROVIDER_COLUMNS[1]) or "",
            provider.isnull(),
            "is required; the value is empty",
            provider,
        )
    )
    shaped = t.select(provider=provider, _file=t._file, _row=t._row, **values)
    return shaped, checks


def _bound(value: Any) -> Any:
    return ibis.literal(value, type=AMOUNT)


def _type(kind: str) -> Any:
    return {
        "timestamp": "timestamp",
        "money": AMOUNT,
        "decimal": AMOUNT,
        "json": dt.Map(dt.string, dt.string),
    }.get(kind, "string")


def _converted(raw: Any, kind: str) -> Any:
    if kind == "timestamp":
        return _timestamp(raw)
    if kind in ("money", "decimal"):
        return raw.try_cast(AMOUNT) if raw.type().is_string() else raw.cast(AMOUNT)
    if kind == "currency":
        return raw.cast("string").strip().upper()
    if kind == "json":
        return raw
    return raw.cast("string")


def _timestamp(raw: Any) -> Any:
    if raw.type().is_timestamp():
        return raw.cast("timestamp")
    return raw.cast("string").try_cast("timestamp")


def usage_problems(
    columns: Sequence[str], mapping: Mapping[str, str], location: str
) -> list[Problem]:
    """What a usage source with ``columns`` lacks: a mapped column, a timestamp, a model."""
    found = Columns(columns)
    problems = [
        Problem(
            f"{location}, column {column!r}",
            f"is mapped to {field} but the source has no such column",
        )
        for field, column in mapping.items()
        if found.get(column) is None
    ]
    fields = _usage_columns(found, mapping)
    if "timestamp" not in fields or not {"request_model", "response_model"} & set(fields):
        problems.append(
            Problem(
                f"{location}, column 'timestamp'",
                "is missing, or a model column is: this is not a usage log (map its columns)",
            )
        )
    return problems


def _usage_columns(found: Columns, mapping: Mapping[str, str]) -> dict[str, str]:
    """Each usage field the source has -> its column."""
    fields = {}
    for field in (*FIELDS, "tags"):
        column = found.get(mapping.get(field, field))
        if column is None and field == "request_model":
            column = found.get("model")
        if column is not None:
            fields[field] = column
    return fields


def usage_table(
    t: ibis.Table,
    mapping: Mapping[str, str],
    rates: Callable[[ibis.Table], ibis.Table],
    by_request: bool,
) -> tuple[ibis.Table, list[Check]]:
    """A usage log read by the engine as ``usage_events``' columns (``mapping``: field -> its
    column; ``tag.<key>`` -> a column holding that tag), priced with the rate table that
    ``rates(events)`` makes for the distinct buckets of its events (``price_keys``; by the
    requested model too if ``by_request``: where overrides may name it); with the checks of
    its values."""
    found = Columns(t.columns)
    fields = _usage_columns(found, mapping)
    none = ibis.null().cast("string")

    def text(field: str) -> Any:
        return t[fields[field]].cast("string") if field in fields else none

    checks: list[Check] = []
    raw_ts = t[fields["timestamp"]]
    ts = _timestamp(raw_ts)
    checks.append(
        Check(fields["timestamp"], raw_ts.isnull(), "is required: when the call was made", raw_ts)
    )
    checks.append(
        Check(
            fields["timestamp"],
            raw_ts.notnull() & ts.isnull(),
            "is not a timestamp (ISO 8601; without a zone it is read as UTC)",
            raw_ts,
        )
    )
    operation = text("operation").strip().lower()
    counted = operation.isnull() | operation.isin(INFERENCE_OPERATIONS)
    request, response = text("request_model"), text("response_model")
    label = fields.get("request_model") or fields.get("response_model") or "request_model"
    checks.append(
        Check(
            label,
            request.isnull() & response.isnull() & counted,
            "is required for a model call (the request or the response model)",
            request,
        )
    )
    tokens = {}
    for field in TOKEN_FIELDS:
        if field not in fields:
            tokens[field] = ibis.literal(0, type="int64")
            continue
        raw = t[fields[field]]
        count = raw.try_cast("int64") if raw.type().is_string() else raw.cast("int64")
        bad = raw.notnull() & (count.isnull() | (count < 0) | (count > MAX_TOKENS))
        checks.append(
            Check(
                fields[field], bad, f"is not a whole number of tokens from 0 to {MAX_TOKENS:,}", raw
            )
        )
        tokens[field] = count.coalesce(0)
    cost: Any = ibis.null().cast(AMOUNT)
    if "cost" in fields:
        raw = t[fields["cost"]]
        cost = raw.try_cast(AMOUNT) if raw.type().is_string() else raw.cast(AMOUNT)
        checks.append(
            Check(fields["cost"], raw.notnull() & cost.isnull(), "is not a decimal number", raw)
        )
        checks.append(
            Check(
                fields["cost"],
                cost.abs() >= _bound(MAX_USAGE_COST),
                too_large("a usage event's cost", MAX_USAGE_COST),
                raw,
            )
        )
        checks.append(
            Check(
                fields["cost"],
                cost < 0,
                "is negative: a usage cost is what a call cost, 0 or more",
                raw,
            )
        )
    currency = text("currency").strip().upper()
    if "currency" in fields:
        checks.append(
            Check(
                fields["currency"],
                currency.notnull() & ~currency.re_search("^[A-Z]{3}$"),
                "is not an ISO 4217 currency code such as USD",
                currency,
            )
        )
    provider = text("provider").lower()
    provider = (provider == "").ifelse(none, provider)
    events = t.select(
        _file=t._file,
        _row=t._row,
        ts=ts,
        provider=provider,
        request_model=request,
        response_model=response,
        counted=counted,
        reported_cost=cost,
        reported_currency=cost.isnull().ifelse(none, currency.coalesce("USD")),
        api_key=text("api_key"),
        team=text("team"),
        initiative=text("initiative"),
        tags=_tags(t, fields, mapping),
        source=ibis.literal(USAGE_SOURCE),
        **tokens,
    )
    return _priced(events, rates, by_request), checks


def _tags(t: ibis.Table, fields: Mapping[str, str], mapping: Mapping[str, str]) -> Any:
    """A usage event's tags: the mapped ``tags`` column (a map, or JSON text read as one), or
    the columns mapped to ``tag.<key>``."""
    pairs = {k.removeprefix("tag."): v for k, v in mapping.items() if k.startswith("tag.")}
    if pairs:
        return ibis.map(list(pairs), [t[c].cast("string") for c in pairs.values()])
    if "tags" in fields:
        return t[fields["tags"]]
    return ibis.null().cast(dt.Map(dt.string, dt.string))


def price_keys(events: ibis.Table, by_request: bool) -> dict[str, Any]:
    """What prices an event: its provider, the model it is priced as, the requested model
    (where overrides may name it) and its half hour, as ``store.pricing.price_bucket``."""
    hour = events.ts.truncate("h")
    return {
        "price_provider": events.provider.coalesce(""),
        "price_model": events.response_model.coalesce(events.request_model),
        "price_request": events.request_model.coalesce("") if by_request else ibis.literal(""),
        "price_bucket": (events.ts.minute() >= 30).ifelse(hour + ibis.interval(minutes=30), hour),
    }


def _priced(
    events: ibis.Table, rates: Callable[[ibis.Table], ibis.Table], by_request: bool
) -> ibis.Table:
    from valuegap.store.pricing import RATE_TOKENS

    keyed = events.mutate(**price_keys(events, by_request))
    r = rates(keyed)
    joined = keyed.left_join(
        r,
        [
            keyed.price_provider == r.rate_provider,
            keyed.price_model == r.rate_model,
            keyed.price_request == r.rate_request,
            keyed.price_bucket == r.rate_bucket,
            keyed.input_tokens > r.rate_above,
            keyed.input_tokens <= r.rate_up_to,
        ],
    )
    products = [
        joined[f"rate_{rate}"].cast(RATE) * joined[tokens].cast(dt.Decimal(20, 0))
        for rate, tokens in RATE_TOKENS.items()
    ]
    total = products[0]
    for product in (*products[1:], joined.rate_per_request.cast(RATE)):
        total = total + product
    priced = joined.rate_model.notnull() & joined.counted
    return joined.select(
        *events.columns,
        computed_cost=priced.ifelse(total.cast(RATE), ibis.null().cast(RATE)),
        computed_currency=priced.ifelse(joined.rate_currency, ibis.null().cast("string")),
    )


def rate_table(pricer: Pricer, buckets: list[dict[str, Any]]) -> Any:
    """The rates of ``buckets`` (provider, model, request, bucket) as a pyarrow table, its
    columns named ``rate_<name>``."""
    import pyarrow as pa

    from valuegap.store.pricing import RATE_COLUMNS, rate_rows

    given = [
        {
            "provider": b["price_provider"],
            "model": b["price_model"],
            "request": b["price_request"],
            "bucket": b["price_bucket"],
        }
        for b in buckets
    ]
    rows = rate_rows(pricer, given)
    text, whole = pa.string(), pa.int64()
    types = {
        "provider": text,
        "model": text,
        "request": text,
        "bucket": pa.timestamp("us"),
        "above": whole,
        "up_to": whole,
        "source": text,
        "currency": text,
        **dict.fromkeys(RATE_COLUMNS, pa.decimal128(38, 18)),
    }
    return pa.table(
        {f"rate_{c}": pa.array([r[c] for r in rows], kind) for c, kind in types.items()}
    )


def problems_found(rows: list[dict[str, Any]], checks: Sequence[Check]) -> list[Problem]:
    """The problems of bad ``rows`` (each with ``_file``, ``_row``, ``bad_<n>`` and
    ``value_<n>`` for check n), named by file and row."""
    from valuegap.costs.engines import plain_path

    problems = []
    for row in rows:
        for n, check in enumerate(checks):
            if row[f"bad_{n}"]:
                problems.append(
                    IngestError.at(
                        plain_path(row["_file"]),
                        row["_row"],
                        check.column,
                        row[f"value_{n}"],
                        check.message,
                    )
                )
    return problems[:MAX_PROBLEMS]


def bad_rows(t: ibis.Table, checks: Sequence[Check]) -> ibis.Table:
    """The first rows of ``t`` that a check finds bad, with what each check found."""
    flags = {f"bad_{n}": c.bad.fill_null(False) for n, c in enumerate(checks)}
    values = {f"value_{n}": c.value.cast("string") for n, c in enumerate(checks)}
    flagged = t.select(_file=t._file, _row=t._row, **flags, **values)
    anything = ibis.or_(*(flagged[name] for name in flags))
    return flagged.filter(anything).order_by(["_file", "_row"]).limit(MAX_PROBLEMS)


def refuse(location: str, problems: list[Problem]) -> None:
    if problems:
        raise IngestError(location, problems)


def not_a_source(kind: str, location: str, problems: list[Problem]) -> ValidationError:
    return ValidationError(f"{location} is not a {kind} source; nothing was added.", problems)

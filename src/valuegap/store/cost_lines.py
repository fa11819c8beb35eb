"""The cost rollup's summed lines of the ledger's own facts, as one DuckDB query written here.

``costs.rollup.summed_lines`` says what the rows are, once, in Ibis, for every engine (DuckDB,
Apache Spark). For the ledger's own tables this module writes the same query by hand, column
for column and cast for cast, so that a command that allocates cost (a forecast, anomalies,
showback) need not import Ibis and compile the query: about 0.35 s, most of such a command's
start. A test runs both on a year of facts and compares every row and every type.

What each source's line is (the FOCUS lines, the usage events, the manual costs) and why is
told in ``costs.rollup``; the comments here say only where the SQL has to follow Ibis's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from valuegap.model.usage import TOKEN_FIELDS
from valuegap.months import month_ranges
from valuegap.store.database import Database
from valuegap.store.literals import literal

MONEY = "DECIMAL(38, 10)"
LINE_MONEY = "DECIMAL(38, 18)"  # a usage line's amount, rounded to MONEY once summed
SUMS = ("amount", "tokens", "requests")
NO_TEXT = "CAST(NULL AS VARCHAR)"


def summed_lines(
    db: Database,
    keys: Sequence[str],
    cost_column: str,
    months: Sequence[date] | None = None,
    *,
    token_kinds: bool = False,
) -> list[dict[str, Any]]:
    """Every cost line of ``db`` (of ``months`` only, if given), summed by month and by ``keys``
    (from ``costs.rules.keys_for``: columns, and tags as ``tag:<key>``): amount, tokens and
    requests, and each kind of token if ``token_kinds``; the rows of ``rollup.summed_lines``."""
    kinds = TOKEN_FIELDS if token_kinds else ()
    sources = [
        _summed(_focus_lines(cost_column, months, kinds), keys, kinds, MONEY),
        _summed(_usage_lines(months, kinds), keys, kinds, None),
        _summed(_manual_lines(months, kinds), keys, kinds, MONEY),
    ]
    return db.all("\nUNION ALL\n".join(sources))


def columns(keys: Sequence[str], *, token_kinds: bool = False) -> list[str]:
    """The columns of ``summed_lines``' rows, in order."""
    return [*keys, *SUMS, *(TOKEN_FIELDS if token_kinds else ())]


def _summed(
    line: tuple[dict[str, str], str, str],
    keys: Sequence[str],
    kinds: Sequence[str],
    summed_as: str | None,
) -> str:
    """One source's lines (its columns' expressions, its table and its filter) summed by
    ``keys``. ``summed_as``: the type its amount's sum already has (None: cast to MONEY)."""
    column, table, where = line
    tag = {key: _tag(column, key[4:]) for key in keys if key.startswith("tag:")}
    selected = [f"{tag.get(key) or column[key]} AS {_quoted(key)}" for key in keys]
    amount = f"sum({column['amount']})"
    sums = [
        f"{amount if summed_as else f'CAST({amount} AS {MONEY})'} AS amount",
        *(f"sum({column[name]}) AS {_quoted(name)}" for name in ("tokens", "requests", *kinds)),
    ]
    grouped = f" GROUP BY {', '.join(str(n) for n in range(1, len(keys) + 1))}" if keys else ""
    return f"SELECT {', '.join([*selected, *sums])} FROM {table}{where}{grouped}"


def _tag(column: dict[str, str], key: str) -> str:
    """A line's tag ``key``; for "initiative", a usage event's initiative attribute where it
    has no tag of that name (as ``costs.rollup`` reads it)."""
    tags = column["tags"]
    found = f"list_extract(element_at({tags}, {literal(key)}), 1)"
    value = f"CASE WHEN {tags} IS NULL THEN NULL ELSE {found} END"
    return f"coalesce({value}, {column['initiative_attribute']})" if key == "initiative" else value


def _focus_lines(
    cost_column: str, months: Sequence[date] | None, kinds: Sequence[str]
) -> tuple[dict[str, str], str, str]:
    start, end = "f.charge_period_start", "f.charge_period_end"
    column = {
        "source": "'focus'",
        "month": f"CAST(date_trunc('month', {start}) AS DATE)",
        "provider": "f.provider",
        "service": "f.service_name",
        "service_category": "f.service_category",
        "sub_account": "f.sub_account_id",
        "api_key": NO_TEXT,
        "model": NO_TEXT,
        "team": NO_TEXT,
        "tags": "f.tags",
        "category": "'infrastructure'",
        "currency": "f.billing_currency",
        "amount": f"CAST(f.{_quoted(cost_column)} AS {MONEY})",
        "tokens": "0",
        "requests": "0",
        "initiative": NO_TEXT,
        "business_unit": NO_TEXT,
        "initiative_attribute": NO_TEXT,
        "day": f"CAST({start} AS DATE)",
        "days": f"date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))",
        **dict.fromkeys(kinds, "0"),
    }
    where = "" if months is None else f" WHERE {_within(start, months)}"
    return column, "focus_lines AS f", where


def _usage_lines(
    months: Sequence[date] | None, kinds: Sequence[str]
) -> tuple[dict[str, str], str, str]:
    column = {
        "source": "u.source",
        "month": "CAST(date_trunc('month', u.ts) AS DATE)",
        "provider": "u.provider",
        "service": NO_TEXT,
        "service_category": "'AI and Machine Learning'",
        "sub_account": NO_TEXT,
        "api_key": "u.api_key",
        "model": "coalesce(u.response_model, u.request_model)",
        "team": "u.team",
        "tags": "u.tags",
        "category": "'infrastructure'",
        "currency": (
            "CASE WHEN u.reported_cost IS NULL THEN u.computed_currency "
            "ELSE u.reported_currency END"
        ),
        "amount": f"coalesce(CAST(u.reported_cost AS {LINE_MONEY}), u.computed_cost)",
        "tokens": "CAST(u.input_tokens + u.output_tokens AS BIGINT)",
        "requests": "1",
        "initiative": NO_TEXT,
        "business_unit": NO_TEXT,
        "initiative_attribute": "u.initiative",
        "day": "CAST(u.ts AS DATE)",
        "days": "1",
        **{kind: f"CAST(u.{kind} AS BIGINT)" for kind in kinds},
    }
    where = " WHERE u.counted" + ("" if months is None else f" AND ({_within('u.ts', months)})")
    return column, "usage_events AS u", where


def _manual_lines(
    months: Sequence[date] | None, kinds: Sequence[str]
) -> tuple[dict[str, str], str, str]:
    column = {
        "source": "'manual'",
        "month": "CAST(m.month AS DATE)",
        **dict.fromkeys(
            ("provider", "service", "service_category", "sub_account", "api_key", "model"),
            NO_TEXT,
        ),
        "team": NO_TEXT,
        "tags": "CAST(NULL AS MAP(VARCHAR, VARCHAR))",
        "category": "m.category",
        "currency": "m.currency",
        "amount": f"CAST(m.amount AS {MONEY})",
        "tokens": "0",
        "requests": "0",
        "initiative": "m.initiative",
        "business_unit": "m.business_unit",
        "initiative_attribute": NO_TEXT,
        "day": "CAST(NULL AS DATE)",
        "days": "0",
        **dict.fromkeys(kinds, "0"),
    }
    if months is None:
        where = ""
    elif months:
        where = f" WHERE CAST(m.month AS DATE) IN ({', '.join(literal(m) for m in months)})"
    else:
        where = " WHERE false"
    return column, "manual_costs AS m", where


def _within(column: str, months: Sequence[date]) -> str:
    """Whether the timestamp ``column`` falls in one of ``months``: on the stored times, one
    range per run of consecutive months, so that DuckDB skips the blocks outside them."""
    ranges = [
        f"({column} >= {_timestamp(start)} AND {column} < {_timestamp(end)})"
        for start, end in month_ranges(months)
    ]
    return " OR ".join(ranges) or "false"


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""The cost rollup's engine half, written once in Ibis so that it runs where the facts live
(DuckDB, or Apache Spark).

Every cost line (FOCUS lines, usage events, manual entries) is brought to one shape at a
monthly grain and summed by every attribute that the rules, the report and counting a dollar
once look at, in one pass over the facts. Only these sums (a few thousand rows, however many
facts) come back; ``costs.allocation`` converts, counts once, allocates and splits them in
exact decimals.

Money stays decimal. Each source is summed in its own type and only its sums are rounded to
DECIMAL(38, 10): FOCUS and manual lines are DECIMAL(38, 10) already, priced usage has 18
places (rounding every line would be slow). A DECIMAL sum does not widen, so each total fits
only because every line is bounded (``valuegap.bounds``): summed at 18 places, FOCUS lines of
up to 10^15 would overflow after 10^5 of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from valuegap.model.usage import TOKEN_FIELDS
from valuegap.months import month_ranges

MONEY = dt.Decimal(38, 10)
LINE_MONEY = dt.Decimal(38, 18)  # rounded to MONEY once summed: rounding every line is slow
TAGS = dt.Map(dt.string, dt.string)

Tables = Mapping[str, Any]


def lines(
    tables: Tables,
    cost_column: str,
    months: Sequence[date] | None = None,
    *,
    token_kinds: bool = False,
) -> list[ibis.Table]:
    """Every cost line in one shape, at a monthly grain, a table per source (FOCUS, usage,
    manual); of ``months`` only, if given; with each kind of token (``TOKEN_FIELDS``) if
    ``token_kinds``. Agent, workflow and tool spans are not cost (their model calls are).
    ``day`` and ``days`` (where a line's charge period starts and how many days it spans; none
    for a manual cost, which is monthly) are kept only where a sum asks for them: daily spend
    (``costs.daily``)."""
    f, m = tables["focus_lines"], tables["manual_costs"]
    u = tables["usage_events"]
    if months is not None:
        m = m.filter(m.month.cast("date").isin(list(months)))
    none = ibis.null().cast("string")
    no_day = ibis.null().cast("date")
    no_tags = ibis.null().cast(TAGS)
    zero = ibis.literal(0, type="int64")
    no_kinds = {kind: zero for kind in TOKEN_FIELDS if token_kinds}
    manual = m.select(
        source=ibis.literal("manual"), month=m.month.cast("date"), provider=none, service=none,
        service_category=none, sub_account=none, api_key=none, model=none, team=none,
        tags=no_tags, category=m.category, currency=m.currency, amount=m.amount.cast(MONEY),
        tokens=zero, requests=zero, initiative=m.initiative, business_unit=m.business_unit,
        initiative_attribute=none, day=no_day, days=zero, **no_kinds,
    )  # fmt: skip
    return [
        focus_lines(f, cost_column, months, token_kinds=token_kinds),
        usage_lines(u, months, token_kinds=token_kinds),
        manual,
    ]


def focus_lines(
    f: ibis.Table,
    cost_column: str,
    months: Sequence[date] | None = None,
    *,
    token_kinds: bool = False,
    keep: Sequence[str] = (),
) -> ibis.Table:
    """FOCUS lines (a table of ``focus_lines``' columns) in the one shape of ``lines``, with
    the columns ``keep`` as they are."""
    if months is not None:
        # On the stored times, not on their months: a range of times skips the blocks of
        # lines outside it, where a month computed for every line reads them all.
        f = f.filter(within(f.charge_period_start, months))
    none = ibis.null().cast("string")
    zero = ibis.literal(0, type="int64")
    no_kinds = {kind: zero for kind in TOKEN_FIELDS if token_kinds}
    return f.select(
        source=ibis.literal("focus"), month=f.charge_period_start.truncate("M").cast("date"),
        provider=f.provider, service=f.service_name, service_category=f.service_category,
        sub_account=f.sub_account_id, api_key=none, model=none, team=none,
        tags=f.tags.cast(TAGS), category=ibis.literal("infrastructure"),
        currency=f.billing_currency, amount=f[cost_column].cast(MONEY), tokens=zero,
        requests=zero, initiative=none, business_unit=none, initiative_attribute=none,
        day=f.charge_period_start.cast("date"), days=_days(f), **no_kinds,
        **{name: f[name] for name in keep},
    )  # fmt: skip


def usage_lines(
    u: ibis.Table,
    months: Sequence[date] | None = None,
    *,
    token_kinds: bool = False,
    keep: Sequence[str] = (),
) -> ibis.Table:
    """Usage events (a table of ``usage_events``' columns) in the one shape of ``lines``, with
    the columns ``keep`` as they are."""
    u = u.filter(u.counted)
    if months is not None:
        u = u.filter(within(u.ts, months))
    none = ibis.null().cast("string")
    one = ibis.literal(1, type="int64")
    kinds = {kind: u[kind].cast("int64") for kind in TOKEN_FIELDS if token_kinds}
    return u.select(
        source=u.source, month=u.ts.truncate("M").cast("date"), provider=u.provider,
        service=none, service_category=ibis.literal("AI and Machine Learning"),
        sub_account=none, api_key=u.api_key,
        model=u.response_model.coalesce(u.request_model), team=u.team, tags=u.tags.cast(TAGS),
        category=ibis.literal("infrastructure"),
        currency=u.reported_cost.isnull().ifelse(u.computed_currency, u.reported_currency),
        amount=u.reported_cost.cast(LINE_MONEY).coalesce(u.computed_cost),
        tokens=(u.input_tokens + u.output_tokens).cast("int64"),
        requests=one, initiative=none, business_unit=none,
        initiative_attribute=u.initiative, day=u.ts.cast("date"), days=one, **kinds,
        **{name: u[name] for name in keep},
    )  # fmt: skip


def _days(f: ibis.Table) -> Any:
    """How many days a FOCUS line's charge period spans, counted from its first day (0 for a
    period within one day; ``costs.daily`` spreads a line over them)."""
    return f.charge_period_end.cast("date").delta(f.charge_period_start.cast("date"), unit="day")


def within(column: Any, months: Sequence[date]) -> Any:
    """Whether a timestamp ``column`` falls in one of ``months``: one range of times per run
    of consecutive months."""
    condition = ibis.literal(False)
    for start, end in month_ranges(months):
        condition |= (column >= start) & (column < end)
    return condition


def summed_lines(
    tables: Tables,
    keys: Sequence[str],
    cost_column: str,
    months: Sequence[date] | None = None,
    *,
    token_kinds: bool = False,
) -> ibis.Table:
    """Every cost line (of ``months`` only, if given), summed by month and by ``keys`` (from
    ``rules.keys_for``): amount, tokens and requests, and each kind of token if ``token_kinds`` (a
    scenario reprices them; a report needs none). Lines with no amount (usage nothing prices)
    are left out of the amount only."""
    sums = [
        summed(t, keys, token_kinds=token_kinds)
        for t in lines(tables, cost_column, months, token_kinds=token_kinds)
    ]
    # One schema, every column nullable, so that the sources' sums union.
    schema = ibis.schema(
        {name: dtype.copy(nullable=True) for name, dtype in sums[0].schema().items()}
    )
    focus, usage, manual = (s.cast(schema) for s in sums)
    return focus.union(usage).union(manual)


def summed(
    t: ibis.Table, keys: Sequence[str], *, token_kinds: bool = False, money: Any = MONEY
) -> ibis.Table:
    """Lines in the shape of ``lines`` summed by ``keys`` (columns, and tags as
    ``tag:<key>``): amount (as ``money``), tokens and requests, and each kind of token if
    ``token_kinds``."""
    tag_keys = sorted({k[4:] for k in keys if k.startswith("tag:")})
    t = t.mutate(**{f"tag:{key}": _tag(t, key) for key in tag_keys})
    kinds = {kind: t[kind].sum().cast("int64") for kind in TOKEN_FIELDS if token_kinds}
    return t.group_by(list(keys)).aggregate(
        amount=t.amount.sum().cast(money),
        tokens=t.tokens.sum().cast("int64"),
        requests=t.requests.sum().cast("int64"),
        **kinds,
    )


def _tag(t: ibis.Table, key: str) -> Any:
    """A line's tag ``key``. A usage event's initiative attribute is its tag "initiative"
    unless it has a tag of that name (it is kept apart: writing it into every event's tags
    would make ingest a fifth slower)."""
    value = t.tags.get(key)
    return value.coalesce(t.initiative_attribute) if key == "initiative" else value

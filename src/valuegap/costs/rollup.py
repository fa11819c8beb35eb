"""The cost rollups, written once in Ibis so that they run on DuckDB and on Apache Spark.

Every cost line (FOCUS lines, usage events, manual entries) is brought to one shape at a
monthly grain and summed by every attribute the rules and the report look at (one pass over the
facts; callers cache the sums where the facts live). The sums are converted to the reporting
currency, allocated by the rules (first match wins; a split multiplies a sum by each
initiative's share), and summed again by what the report asks for.

Money stays decimal: a line is DECIMAL(38, 18) (priced usage has 18 places), its sums
DECIMAL(38, 10); conversion and splits multiply DECIMAL(18, 9) values, which both engines do
exactly, and round the product back to 10 places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis import _

from valuegap.costs.rules import UNALLOCATED, Rule, rule_shares

MONEY = dt.Decimal(38, 10)
LINE_MONEY = dt.Decimal(38, 18)  # rounded to MONEY once summed: rounding every line is slow
FACTOR = dt.Decimal(18, 9)
TAGS = dt.Map(dt.string, dt.string)
USAGE_SOURCES = ("otel", "litellm", "csv")
DIMENSIONS = (
    "initiative", "business_unit", "category", "month", "provider", "service",
    "service_category", "model", "sub_account", "source",
)  # fmt: skip

Tables = Mapping[str, Any]


@dataclass(frozen=True)
class RollupInputs:
    """What a rollup needs besides the facts: small tables made in Python."""

    rules: Sequence[Rule]
    rates: Mapping[tuple[str, date], Decimal]  # (currency, month) -> rate to reporting
    reporting_currency: str
    shares: Mapping[tuple[str, date], Mapping[str, Decimal]] | None = None  # proportional


def lines(tables: Tables, cost_column: str) -> ibis.Table:
    """Every cost line in one shape, at a monthly grain."""
    f, u, m = tables["focus_lines"], tables["usage_events"], tables["manual_costs"]
    none = ibis.null().cast("string")
    no_tags = ibis.null().cast(TAGS)
    zero = ibis.literal(0, type="int64")
    focus = f.select(
        source=ibis.literal("focus"), month=f.charge_period_start.truncate("M").cast("date"),
        provider=f.provider, service=f.service_name, service_category=f.service_category,
        sub_account=f.sub_account_id, api_key=none, model=none, team=none,
        tags=f.tags.cast(TAGS), category=ibis.literal("infrastructure"),
        currency=f.billing_currency, amount=f[cost_column].cast(LINE_MONEY), tokens=zero,
        requests=zero, initiative=none, business_unit=none, initiative_attribute=none,
    )  # fmt: skip
    usage = u.select(
        source=u.source, month=u.ts.truncate("M").cast("date"), provider=u.provider,
        service=none, service_category=ibis.literal("AI and Machine Learning"),
        sub_account=none, api_key=u.api_key,
        model=u.response_model.coalesce(u.request_model), team=u.team, tags=u.tags.cast(TAGS),
        category=ibis.literal("infrastructure"),
        currency=u.reported_cost.isnull().ifelse("USD", u.reported_currency),
        amount=u.reported_cost.cast(LINE_MONEY).coalesce(u.computed_cost),
        tokens=(u.input_tokens + u.output_tokens).cast("int64"),
        requests=ibis.literal(1, type="int64"), initiative=none, business_unit=none,
        initiative_attribute=u.initiative,
    )  # fmt: skip
    manual = m.select(
        source=ibis.literal("manual"), month=m.month.cast("date"), provider=none, service=none,
        service_category=none, sub_account=none, api_key=none, model=none, team=none,
        tags=no_tags, category=m.category, currency=m.currency, amount=m.amount.cast(LINE_MONEY),
        tokens=zero, requests=zero, initiative=m.initiative, business_unit=m.business_unit,
        initiative_attribute=none,
    )  # fmt: skip
    # One schema, every column nullable, so that the sources union.
    schema = ibis.schema(
        {name: dtype.copy(nullable=True) for name, dtype in focus.schema().items()}
    )
    return focus.cast(schema).union(usage.cast(schema)).union(manual.cast(schema))


def _matches(rule: Rule, t: ibis.Table) -> Any:
    condition = ibis.literal(True)
    for key in rule.match:
        column = t[key.replace("tag.", "tag:", 1)]
        condition = condition & column.lower().isin([v.lower() for v in rule.values(key)])
    return condition


# What every rollup needs of a line, whatever the rules and the report look at.
_ALWAYS = ("month", "category", "currency", "source", "initiative", "business_unit")


def _summed(t: ibis.Table, keep: Sequence[str]) -> ibis.Table:
    """Lines summed over everything but what rules and reports look at (``keep``: columns,
    and tags as ``tag:<key>``, which become columns). Rules then run over a few thousand sums
    instead of millions of lines, and the totals are the same."""
    tag_keys = sorted({k[4:] for k in keep if k.startswith("tag:")})
    t = t.mutate(**{f"tag:{key}": _tag(t, key) for key in tag_keys})
    keys = [c for c in t.columns if c in _ALWAYS or c in keep]
    return t.group_by(keys).aggregate(
        amount=t.amount.sum().cast(MONEY), tokens=t.tokens.sum(), requests=t.requests.sum()
    )


def _tag(t: ibis.Table, key: str) -> Any:
    """A line's tag ``key``. A usage event's initiative attribute is its tag "initiative"
    unless it has a tag of that name (it is kept apart: writing it into every event's tags
    would make ingest a fifth slower)."""
    value = t.tags.get(key)
    return value.coalesce(t.initiative_attribute) if key == "initiative" else value


def summed_lines(
    tables: Tables,
    rules: Sequence[Rule],
    cost_column: str,
    by: Sequence[str] = (),
) -> ibis.Table:
    """Every cost line, summed by month and by every attribute that ``rules`` or a report
    by ``by`` (DIMENSIONS or ``tag:<key>``) look at. Rollups start here; cache it to run
    several over one pass of the facts."""
    rule_keys = [k.replace("tag.", "tag:", 1) for r in rules for k in r.match]
    return _summed(lines(tables, cost_column), [*rule_keys, *by])


def allocated(
    summed: ibis.Table, initiatives: ibis.Table, inputs: RollupInputs, *, splits: bool = True
) -> ibis.Table:
    """The summed lines in the reporting currency, with their initiative and business unit."""
    t = summed
    if inputs.rates:
        t = _convert(t, inputs)
    cases = [(_matches(rule, t), rule.id) for rule in inputs.rules]
    rule_id = ibis.cases(*cases, else_=ibis.null("string")) if cases else ibis.null("string")
    t = t.mutate(rule=(t.initiative.isnull() & (t.source != "manual")).ifelse(rule_id, None))
    t = t.mutate(
        initiative=t.initiative.coalesce(_by_rule(t, inputs.rules, "initiative")),
        business_unit=t.business_unit.coalesce(_by_rule(t, inputs.rules, "business_unit")),
        category=_by_rule(t, inputs.rules, "category").coalesce(t.category),
    )
    if splits:
        t = _settled(_split(t, inputs))
    units = initiatives.select(unit_of=_.id, initiative_unit=_.business_unit)
    return t.left_join(units, t.initiative == units.unit_of).select(
        *[c for c in t.columns if c != "business_unit"],
        business_unit=_.business_unit.coalesce(_.initiative_unit),
    )


def _by_rule(t: ibis.Table, rules: Sequence[Rule], field: str) -> Any:
    """What the matched rule says of ``field`` (initiative, business unit or category)."""
    cases = [(t.rule == r.id, getattr(r, field)) for r in rules if getattr(r, field)]
    return ibis.cases(*cases, else_=ibis.null("string")) if cases else ibis.null("string")


def _settled(t: ibis.Table) -> ibis.Table:
    """A projection of a join, made joinable again: Ibis 12 folds a join that follows a
    projection of a join into one chain, and then rejects predicates on the projection."""
    return t.select(*t.columns)


def _convert(t: ibis.Table, inputs: RollupInputs) -> ibis.Table:
    rates = ibis.memtable(
        {
            "rate_currency": [c for c, _ in inputs.rates] or [""],
            "rate_month": [m for _, m in inputs.rates] or [date(1970, 1, 1)],
            "rate": [str(r) for r in inputs.rates.values()] or ["1"],
        },
        schema={"rate_currency": "string", "rate_month": "date", "rate": "string"},
    )
    joined = t.left_join(rates, (t.currency == rates.rate_currency) & (t.month == rates.rate_month))
    converted = (joined.amount.cast(FACTOR) * joined.rate.cast(FACTOR)).cast(MONEY)
    return joined.select(
        *[c for c in t.columns if c not in ("amount", "currency")],
        amount=(joined.currency == inputs.reporting_currency).ifelse(joined.amount, converted),
    )


def _split(t: ibis.Table, inputs: RollupInputs) -> ibis.Table:
    rows: dict[str, list[Any]] = {"share_rule": [], "share_month": [], "share_initiative": [],
                                  "share": []}  # fmt: skip
    months = sorted({m for _, m in (inputs.shares or {})})
    for rule in inputs.rules:
        fixed = rule_shares(rule)
        if rule.split is None:
            continue
        per_month: list[date | None] = list(months) if fixed is None else [None]
        for month in per_month:
            shares = fixed if month is None else (inputs.shares or {}).get((rule.id, month))
            for initiative, share in (shares or {}).items():
                rows["share_rule"].append(rule.id)
                rows["share_month"].append(month)
                rows["share_initiative"].append(initiative)
                rows["share"].append(str(share))
    if not rows["share_rule"]:
        return t
    shares = ibis.memtable(
        rows,
        schema={
            "share_rule": "string",
            "share_month": "date",
            "share_initiative": "string",
            "share": "string",
        },
    )
    joined = t.left_join(
        shares,
        (t.rule == shares.share_rule)
        & (shares.share_month.isnull() | (shares.share_month == t.month)),
    )
    part = (joined.amount.cast(FACTOR) * joined.share.cast(FACTOR)).cast(MONEY)
    return joined.select(
        *[c for c in t.columns if c not in ("amount", "initiative", "tokens", "requests")],
        initiative=joined.initiative.coalesce(joined.share_initiative),
        amount=joined.share.isnull().ifelse(joined.amount, part),
        tokens=joined.tokens,
        requests=joined.requests,
    )


def rollup(
    summed: ibis.Table,
    initiatives: ibis.Table,
    inputs: RollupInputs,
    by: Sequence[str],
    start: date | None = None,
    end: date | None = None,
) -> ibis.Table:
    """Allocated cost by ``by`` (DIMENSIONS or ``tag:<key>``; the tags must be among those
    ``summed`` kept), months in [start, end)."""
    t = allocated(summed, initiatives, inputs)
    t = t.filter(t.amount.notnull())
    if start is not None:
        t = t.filter(t.month >= start)
    if end is not None:
        t = t.filter(t.month < end)
    keys = {}
    for key in by:
        if key in ("initiative", "business_unit"):
            keys[key] = t[key].coalesce(UNALLOCATED)
        else:
            keys[key] = t[key]
    grouped = t.group_by(**keys) if keys else t
    result = grouped.aggregate(cost=t.amount.sum().cast(MONEY))
    return result.order_by([result[k] for k in keys]) if keys else result


def currencies(summed: ibis.Table, reporting: str) -> ibis.Table:
    """The (currency, month) pairs of cost not in the reporting currency."""
    return summed.filter(summed.currency != reporting).select("currency", "month").distinct()


def drivers(summed: ibis.Table, initiatives: ibis.Table, inputs: RollupInputs) -> ibis.Table:
    """Per month and initiative: tokens, requests and cost of directly allocated usage
    (and, with no initiative, of unallocated usage)."""
    usage = summed.filter(summed.source.isin(USAGE_SOURCES))
    t = allocated(usage, initiatives, inputs, splits=False)
    return t.group_by("month", "initiative").aggregate(
        tokens=t.tokens.sum(), requests=t.requests.sum(), cost=t.amount.sum().cast(MONEY)
    )

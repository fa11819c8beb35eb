"""A business unit's statement for a period: what its cost is made of, worked out from the
allocated parts (``costs.allocation``) that the cost report sums, so that its total is the
unit's row of ``cost_report(["business_unit"])`` for the same months.

- ``lines``: the unit's cost by initiative (``(unit overhead)`` for the unit's own), category,
  provider, model and basis (invoiced, estimated: usage no invoice covers yet, manual).
- ``shared``: of that, what split rules gave its initiatives, each with the rule, its method
  and driver, the whole amount the rule split in the period, and the unit's share of it.
- ``adjustments`` (a month's statement): the differences that later changes made to the
  closed months just before it, each a line naming the month it corrects (``adjustments_for``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from valuegap.costs.allocation import AllocatedPart
from valuegap.costs.rules import Rule, Split
from valuegap.decimals import plain
from valuegap.months import add_months
from valuegap.outcomes.finance import ratio
from valuegap.outcomes.results import Count, Period
from valuegap.records import record
from valuegap.results import Money, Ratio

Mode = Literal["showback", "chargeback"]
ZERO = Decimal(0)
ACTIVITY_NOTE = "context only: activity is never rewarded or ranked; outcomes are"
# What a line and an adjustment are keyed by.
LineKey = tuple[str, str, str | None, str | None]  # initiative, category, provider, model


@record
class StatementLine:
    initiative: str  # "(unit overhead)": the unit's own cost
    category: str
    provider: str | None
    model: str | None
    basis: str  # invoiced | estimated | manual
    cost: Money


@record
class SharedCost:
    """What a split rule gave one of the unit's initiatives: its ``cost``, a ``share`` of all
    the rule split in the period (``split_total``)."""

    rule: str
    method: str  # even | fixed | proportional
    driver: str | None  # a proportional split's: cost, usage_cost, tokens or requests
    initiative: str
    cost: Money
    split_total: Money
    share: Ratio | None


@record
class Adjustment:
    """A change to a closed month's cost, booked in a later month: the ``difference`` between
    the month's cost now and what its statements booked."""

    corrects: str  # YYYY-MM
    initiative: str
    category: str
    provider: str | None
    model: str | None
    difference: Money


@record
class UnitEconomics:
    """An initiative's cost in the period per successful outcome (the portfolio report's)."""

    initiative: str
    cost: Money
    successful_outcomes: Count
    cost_per_outcome: Money | None


@record
class Activity:
    note: str
    tokens: int
    requests: int


@record
class Statement:
    """A business unit's statement. ``cost`` = invoiced + estimated + manual, the sum of the
    lines. A chargeback statement books ``to_book`` = cost + adjustments, to ``cost_centre``;
    ``closed_at``: when finance closed its month (then it is as it was closed)."""

    business_unit: str
    period: Period
    mode: Mode
    cost_centre: str | None
    currency: str
    cost: Money
    invoiced: Money
    estimated: Money
    manual: Money
    adjustments_total: Money
    to_book: Money | None
    cost_per_outcome: Money | None
    closed_at: datetime | None
    closed_by: str | None
    lines: list[StatementLine]
    shared: list[SharedCost]
    adjustments: list[Adjustment]
    unit_economics: list[UnitEconomics]
    activity: Activity


@record
class StatementRow:
    """A line or an adjustment of a statement, as its CSV lists them: an adjustment names the
    closed month it ``corrects`` and has no basis; its cost is the difference it books."""

    kind: Literal["line", "adjustment"]
    corrects: str | None
    initiative: str
    category: str
    provider: str | None
    model: str | None
    basis: str | None
    cost: Money


def statement_rows(statement: Statement) -> list[StatementRow]:
    """The statement's lines, then its adjustments: what its CSV holds."""
    lines = [
        StatementRow(
            "line", None, ln.initiative, ln.category, ln.provider, ln.model, ln.basis, ln.cost
        )
        for ln in statement.lines
    ]
    adjustments = [
        StatementRow(
            "adjustment",
            a.corrects,
            a.initiative,
            a.category,
            a.provider,
            a.model,
            None,
            a.difference,
        )
        for a in statement.adjustments
    ]
    return lines + adjustments


@record
class Costed:
    """What a statement takes from the allocated parts."""

    lines: list[StatementLine]
    shared: list[SharedCost]
    activity: Activity

    def total(self, basis: str | None = None) -> Decimal:
        return plain(sum((ln.cost for ln in self.lines if basis in (None, ln.basis)), ZERO))


def costed(parts: Iterable[AllocatedPart], unit: str, start: date, end: date) -> Costed:
    """The unit's lines, shared cost and activity in months [start, end) of ``parts``."""
    sums: dict[tuple[str, str, str | None, str | None, str], Decimal] = defaultdict(lambda: ZERO)
    split: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # (rule, initiative)
    split_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    splits: dict[str, Split] = {}
    tokens = requests = 0
    for part in parts:
        if not start <= part.month < end:
            continue
        rule = _split_by(part)
        if rule is not None:
            split_total[rule.id] += part.amount
        if part.label("business_unit") != unit:
            continue
        key = _key(part)
        sums[(*key, part.basis)] += part.amount
        tokens, requests = tokens + part.tokens, requests + part.requests
        if rule is not None and rule.split is not None:
            splits[rule.id] = rule.split
            split[(rule.id, key[0])] += part.amount
    lines = [
        StatementLine(i, c, p, m, basis, plain(cost))
        for (i, c, p, m, basis), cost in sorted(sums.items(), key=_order)
        if cost
    ]
    shares = [
        SharedCost(
            rule_id,
            splits[rule_id].method,
            splits[rule_id].driver,
            initiative,
            plain(cost),
            plain(split_total[rule_id]),
            ratio(cost, split_total[rule_id]),
        )
        for (rule_id, initiative), cost in sorted(split.items())
    ]
    return Costed(lines, shares, Activity(ACTIVITY_NOTE, tokens, requests))


def _split_by(part: AllocatedPart) -> Rule | None:
    """The split rule that gave ``part`` to its initiative, if one did."""
    rule = part.rule
    return rule if rule is not None and rule.split is not None and part.initiative else None


def _key(part: AllocatedPart) -> LineKey:
    initiative, category = part.label("initiative"), part.category
    assert isinstance(initiative, str)
    return initiative, category, part.text("provider"), part.text("model")


def _order(item: tuple[tuple[str, str, str | None, str | None, str], Decimal]) -> tuple[str, ...]:
    return tuple(value or "" for value in item[0])


def by_key(lines: Iterable[StatementLine]) -> dict[LineKey, Decimal]:
    """Lines summed over their basis, by initiative, category, provider and model."""
    found: dict[LineKey, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        found[(line.initiative, line.category, line.provider, line.model)] += line.cost
    return found


def closed_run(month: date, closed: Iterable[date]) -> list[date]:
    """The closed months just before ``month``, latest first: those whose changes ``month``
    books, being their next month not closed."""
    run, found = [], set(closed)
    previous = add_months(month, -1)
    while previous in found:
        run.append(previous)
        previous = add_months(previous, -1)
    return run


def adjustments_for(
    month: date,
    now: Mapping[date, Sequence[StatementLine]],
    closed: Mapping[date, Statement],
) -> list[Adjustment]:
    """The adjustments that the open ``month``'s statement books: for each closed month of
    its ``closed_run``, the month's lines ``now`` less what its own statement and the closed
    months after it booked for it."""
    found = []
    run = sorted(closed_run(month, closed))
    for n, corrected in enumerate(run):
        name = f"{corrected:%Y-%m}"
        booked = by_key(closed[corrected].lines)
        for later in run[n + 1 :]:
            for a in closed[later].adjustments:
                if a.corrects == name:
                    key = (a.initiative, a.category, a.provider, a.model)
                    booked[key] += a.difference
        current = by_key(now.get(corrected, ()))
        for key in sorted(set(booked) | set(current), key=lambda k: tuple(v or "" for v in k)):
            difference = current[key] - booked[key]
            if difference:
                found.append(Adjustment(name, *key, plain(difference)))
    return found

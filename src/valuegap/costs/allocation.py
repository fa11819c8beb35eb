"""Allocating cost: every dollar once, to an initiative, to a business unit's own overhead, or
unallocated.

It works on the facts summed by month and attribute (``costs.rollup``: a few thousand sums,
however many facts), in exact decimals:

1. Each sum is converted to the reporting currency.
2. The rules are matched (first match wins): a sum gets an initiative, a business unit (its
   overhead) or a split. Manual costs keep the initiative or unit their rows name.
3. A dollar is counted once. Where a provider's invoice (FOCUS) for a month has token-service
   lines and that provider has usage events in the month, the invoice lines are the cost and
   the usage events are the key that splits them: each invoice line is divided among the usage
   sums in proportion to their own cost (else, if none is priced, their tokens), and each part
   takes the usage sum's model, tags and allocation (or, where the usage sum matched no rule,
   the invoice line's own). The usage sums then count nothing, but keep their own cost as
   ``usage_cost``, beside. Usage with no invoice in its month stands at its own cost, as an
   ``estimated`` part, until the invoice arrives.
4. Splits: a part that a split rule matched is divided among the rule's initiatives, evenly,
   by fixed shares, or in proportion to a driver of the month: their directly allocated
   ``cost`` from every source, or their usage events' ``usage_cost``, ``tokens`` or
   ``requests``. In a month where none of them has any, the part stays unallocated. Each
   part keeps its ``share`` of the line (so that a scenario counts that share of its calls).

Every division divides the amount itself (``costs.split``): the parts of a line add up to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.bounds import WIDE, rounded
from valuegap.costs.rules import UNALLOCATED, UNIT_OVERHEAD, Rule, fixed_weights
from valuegap.costs.split import PLACES, divide
from valuegap.model.providers import TokenService, catalogue_id, token_service_key
from valuegap.model.usage import TOKEN_FIELDS
from valuegap.records import record
from valuegap.results import Money

ZERO = Decimal(0)
ONE = Decimal(1)
USAGE_SOURCES = ("otel", "litellm", "csv")
# A usage sum's attributes that its invoice parts take (the invoice line keeps the others:
# provider, service, service category, sub-account).
USAGE_ATTRIBUTES = ("model", "api_key", "team")
SUMS = frozenset({"amount", "tokens", "requests", *TOKEN_FIELDS})  # a summed line's sums


@record
class AllocationInputs:
    """What allocating needs besides the sums: small things read from the ledger."""

    rules: Sequence[Rule]
    rates: Mapping[tuple[str, date], Decimal]  # (currency, month) -> rate to reporting
    reporting_currency: str
    units: Mapping[str, str]  # initiative -> its business unit
    token_services: Sequence[TokenService] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)


# A summed line's attributes: month (a date), source, provider, service, ..., tag:<key>.
Attributes = Mapping[str, str | date | None]


@record
class AllocatedPart:
    """A part of a summed line, allocated: its amount in the reporting currency."""

    line: int  # the summed line it comes from (for an invoice's part, the invoice line)
    attributes: Attributes
    basis: str  # invoiced | estimated | manual
    amount: Money
    category: str
    initiative: str | None = None
    business_unit: str | None = None
    rule: Rule | None = None
    usage_cost: Money = ZERO
    tokens: int = 0
    requests: int = 0
    share: Decimal = ONE  # of the line: a split's share, else 1

    @property
    def month(self) -> date:
        month = self.attributes["month"]
        assert isinstance(month, date)
        return month

    @property
    def split_pending(self) -> bool:
        return self.initiative is None and self.rule is not None and self.rule.split is not None

    def text(self, key: str) -> str | None:
        """An attribute that is text: any but the month."""
        value = self.attributes.get(key)
        assert not isinstance(value, date)
        return value

    def label(self, key: str) -> str | date | None:
        """The part's value of a report dimension."""
        if key == "initiative":
            if self.initiative:
                return self.initiative
            return UNIT_OVERHEAD if self.business_unit else UNALLOCATED
        if key == "business_unit":
            return self.business_unit or UNALLOCATED
        if key == "basis":
            return self.basis
        return self.attributes.get(key)


def allocate(summed: Iterable[Mapping[str, Any]], inputs: AllocationInputs) -> list[AllocatedPart]:
    """Every summed line's parts (see the module's steps)."""
    rules = [(rule, _match(rule)) for rule in inputs.rules]
    lines = [_matched(_converted(n, row, inputs), rules) for n, row in enumerate(summed)]
    parts = _counted_once(lines, inputs)
    drivers = _drivers(parts)
    split = [piece for part in parts for piece in _split(part, drivers)]
    return [
        part
        if part.business_unit or not part.initiative
        else replace(part, business_unit=inputs.units.get(part.initiative))
        for part in split
    ]


def _converted(n: int, row: Mapping[str, Any], inputs: AllocationInputs) -> AllocatedPart:
    attributes = {k: v for k, v in row.items() if k not in SUMS}
    amount = row["amount"] if row["amount"] is not None else ZERO
    currency = row["currency"]
    if currency != inputs.reporting_currency and amount:
        rate = inputs.rates[(currency, row["month"])]
        amount = rounded(WIDE.multiply(amount, rate), PLACES)
    source = row["source"]
    basis = "manual" if source == "manual" else "invoiced" if source == "focus" else "estimated"
    usage = source in USAGE_SOURCES
    return AllocatedPart(
        n,
        attributes,
        basis,
        amount,
        row["category"],
        row["initiative"],
        row["business_unit"],
        usage_cost=amount if usage else ZERO,
        tokens=int(row["tokens"] or 0),
        requests=int(row["requests"] or 0),
    )


def _matched(part: AllocatedPart, rules: Sequence[tuple[Rule, Match]]) -> AllocatedPart:
    """The part as the first matching rule allocates it (manual costs as their rows say)."""
    if part.attributes["source"] == "manual":
        return part
    rule = next((r for r, match in rules if _matches(match, part.attributes)), None)
    if rule is None:
        return part
    return replace(
        part,
        rule=rule,
        initiative=rule.initiative,
        business_unit=rule.business_unit,
        category=rule.category or part.category,
    )


Match = tuple[tuple[str, frozenset[str]], ...]  # (attribute, its values in lower case)


def _match(rule: Rule) -> Match:
    """What a rule matches, as attributes and their values in lower case (case is ignored)."""
    return tuple(
        (key.replace("tag.", "tag:", 1), frozenset(v.lower() for v in rule.values(key)))
        for key in rule.match
    )


def _matches(match: Match, attributes: Attributes) -> bool:
    for key, values in match:
        value = attributes.get(key)
        if value is None or str(value).lower() not in values:
            return False
    return True


def _pool(part: AllocatedPart, inputs: AllocationInputs) -> str | None:
    """The provider key whose token spend the part is: an invoice's token-service line, or a
    usage sum."""
    source = part.attributes["source"]
    if source == "focus":
        provider, service = part.text("provider"), part.text("service")
        return token_service_key(inputs.token_services, provider, service, inputs.aliases)
    if source in USAGE_SOURCES:
        return catalogue_id(part.text("provider"), inputs.aliases)
    return None


def _counted_once(lines: Sequence[AllocatedPart], inputs: AllocationInputs) -> list[AllocatedPart]:
    pools: dict[tuple[str, date], tuple[list[AllocatedPart], list[AllocatedPart]]] = defaultdict(
        lambda: ([], [])
    )
    parts: list[AllocatedPart] = []
    for line in lines:
        pool = _pool(line, inputs)
        if pool is None:
            parts.append(line)
        else:
            invoice, usage = pools[(pool, line.month)]
            (invoice if line.attributes["source"] == "focus" else usage).append(line)
    for invoice, usage in pools.values():
        weights = _usage_weights(usage)
        if not invoice or weights is None:
            parts.extend([*invoice, *usage])  # an invoice with no usage, or an estimate
            continue
        for line in invoice:
            for n, amount in divide(line.amount, weights).items():
                parts.append(_invoice_part(line, usage[n], amount))
        # The usage stays beside, at no cost of its own (its usage_cost kept), under the
        # invoice's provider name when the invoice has one, so that a report by provider
        # shows the invoice and the usage that split it in one row.
        providers = {line.attributes["provider"] for line in invoice}
        named = {"provider": providers.pop()} if len(providers) == 1 else {}
        parts.extend(
            replace(u, basis="invoiced", amount=ZERO, attributes={**u.attributes, **named})
            for u in usage
        )
    return parts


def _usage_weights(usage: Sequence[AllocatedPart]) -> dict[int, Decimal | int] | None:
    """How an invoice is split among a month's usage sums: by their cost, else (none is
    priced) by their tokens, else by their requests; None when there is no usage."""
    for name in ("usage_cost", "tokens", "requests"):
        weights: dict[int, Decimal | int] = {
            n: max(getattr(u, name), 0) for n, u in enumerate(usage)
        }
        if sum(weights.values()) > 0:
            return weights
    return None


def _invoice_part(line: AllocatedPart, usage: AllocatedPart, amount: Decimal) -> AllocatedPart:
    """The part of invoice ``line`` that ``usage`` is the key of."""
    attributes = dict(line.attributes)
    for key, value in usage.attributes.items():
        if key in USAGE_ATTRIBUTES or (key.startswith("tag:") and value is not None):
            attributes[key] = value
    allocated = usage if usage.rule is not None else line
    return replace(
        line,
        attributes=attributes,
        amount=amount,
        initiative=allocated.initiative,
        business_unit=allocated.business_unit,
        rule=allocated.rule,
        category=allocated.category,
    )


Drivers = Mapping[tuple[date, str], Mapping[str, Decimal]]


def _drivers(parts: Iterable[AllocatedPart]) -> Drivers:
    """Per month and initiative: its directly allocated cost (every source), and its usage
    events' cost, tokens and requests."""
    found: dict[tuple[date, str], dict[str, Decimal]] = defaultdict(
        lambda: {"cost": ZERO, "usage_cost": ZERO, "tokens": ZERO, "requests": ZERO}
    )
    for part in parts:
        if part.initiative is None:
            continue
        driver = found[(part.month, part.initiative)]
        driver["cost"] += part.amount
        driver["usage_cost"] += part.usage_cost
        driver["tokens"] += part.tokens
        driver["requests"] += part.requests
    return found


def _split(part: AllocatedPart, drivers: Drivers) -> list[AllocatedPart]:
    if not part.split_pending:
        return [part]
    assert part.rule is not None and part.rule.split is not None
    split = part.rule.split
    weights: Mapping[str, Decimal | int]
    if split.method == "proportional":
        assert split.driver is not None
        weights = {
            name: value
            for name in split.among
            if (value := drivers.get((part.month, name), {}).get(split.driver, ZERO)) > 0
        }
    else:
        weights = fixed_weights(split)
    if not weights:
        return [part]  # no initiative had any of the driver: unallocated
    amounts = divide(part.amount, weights)
    usage = divide(part.usage_cost, weights) if part.usage_cost else {}
    total = sum(weights.values(), ZERO)
    return [
        replace(
            part,
            initiative=name,
            business_unit=None,
            amount=amounts[name],
            usage_cost=usage.get(name, ZERO),
            tokens=0,
            requests=0,
            share=WIDE.divide(weights[name], total),
        )
        for name in weights
    ]


def report(
    parts: Iterable[AllocatedPart],
    by: Sequence[str],
    start: date | None = None,
    end: date | None = None,
) -> list[dict[str, Any]]:
    """The parts in months [start, end), summed by ``by``: cost, the part of it that is an
    estimate, and the usage events' own cost."""
    totals: dict[tuple[Any, ...], dict[str, Decimal]] = defaultdict(
        lambda: {"cost": ZERO, "estimated": ZERO, "usage_cost": ZERO}
    )
    for part in parts:
        if (start is not None and part.month < start) or (end is not None and part.month >= end):
            continue
        sums = totals[tuple(part.label(k) for k in by)]
        sums["cost"] += part.amount
        sums["usage_cost"] += part.usage_cost
        if part.basis == "estimated":
            sums["estimated"] += part.amount
    return [
        {**dict(zip(by, key, strict=True)), **sums}
        for key, sums in sorted(totals.items(), key=lambda kv: sort_key(kv[0]))
    ]


def sort_key(values: Iterable[Any]) -> tuple[tuple[bool, Any], ...]:
    """How report rows are sorted by their ``values``: nulls last, each column one type."""
    return tuple((value is None, value if value is not None else 0) for value in values)

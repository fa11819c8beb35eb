"""Reconciliation: does the usage cost valuegap computes match what the provider invoiced?

The most common complaint about LLM cost trackers is that their figure does not match the bill.
Per provider and month, like for like: the invoiced side is the provider's token-service lines
in FOCUS (``BilledCost`` of the ``Usage`` charges: what the invoice says for the calls), never
its other services (GPUs, document AI, search), and its credits, adjustments and taxes only
named beside; the computed side is the provider's model calls priced by the catalogue and the
organisation's overrides. A gap beyond the tolerance (a share of the invoice) is flagged, and
each row says what the catalogue cannot see that could explain it: cache reads and writes,
reasoning tokens, batch or priority tiers, discounts on the invoice, organisation prices,
unpriced calls, and calls that were never instrumented.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from valuegap.bounds import rounded
from valuegap.model.pricing import Override
from valuegap.model.providers import TokenService, catalogue_id, token_service_key
from valuegap.months import next_month
from valuegap.records import record
from valuegap.results import Money, Ratio

ZERO = Decimal(0)
CENT = Decimal("0.01")
STANDARD_TIERS = ("default", "auto", "standard", "on_demand")
# gap: beyond the tolerance; estimate: usage with no invoice yet; no_usage: invoiced token
# spend with no usage events
Status = Literal["gap", "ok", "estimate", "no_usage"]


@record
class ReconcileLine:
    """One provider's month: what its invoice's token services say against what its model
    calls cost priced, in the reporting currency (``currency``), and what explains the gap."""

    provider: str
    month: str  # YYYY-MM
    services: list[str]  # the invoice's token services
    invoice_ids: list[str]
    invoiced: Money
    computed: Money
    gap: Money  # computed - invoiced
    gap_share: Ratio | None  # of the invoice (None: nothing invoiced)
    status: Status
    events: int
    unpriced_events: int
    tokens: dict[str, int]  # input, output, cache_read, cache_write, reasoning
    reported: Money | None  # the cost the sources reported themselves
    list_cost: Money | None  # the invoice's list cost
    explanation: list[str]  # sentences
    currency: str


@dataclass
class _Side:
    """What one provider and month add up to, in the reporting currency."""

    invoiced: Decimal = Decimal(0)
    list_cost: Decimal = Decimal(0)
    computed: Decimal = Decimal(0)
    reported: Decimal = Decimal(0)
    services: set[str] = field(default_factory=set)
    invoice_ids: set[str] = field(default_factory=set)
    invoice_lines: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    events: int = 0
    unpriced: int = 0
    override_events: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    other_charges: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def reconcile(
    invoice: Iterable[Mapping[str, Any]],
    usage: Iterable[Mapping[str, Any]],
    convert: Callable[[Decimal, str | None, date], Decimal],
    services: Sequence[TokenService],
    aliases: Mapping[str, str],
    overrides: Sequence[Override],
    tolerance: Decimal,
    reporting: str,
) -> list[ReconcileLine]:
    """One row per provider and month (``convert(amount, currency, month)`` into the reporting
    currency), invoiced and computed, the gap and its explanation."""
    sides: dict[tuple[str, date], _Side] = defaultdict(_Side)
    for row in invoice:
        key = token_service_key(services, row["provider"], row["service"], aliases)
        if key is None:
            continue
        side = sides[(key, row["month"])]
        side.services.add(row["service"])
        side.invoice_ids.update(row["invoice_ids"] or ())
        billed = convert(row["billed"], row["currency"], row["month"])
        if row["charge_category"] != "Usage":
            side.other_charges[row["charge_category"]] += billed
            continue
        side.invoiced += billed
        side.list_cost += convert(row["list_cost"] or ZERO, row["currency"], row["month"])
        side.invoice_lines += row["lines"]
    for row in usage:
        key = catalogue_id(row["provider"], aliases) or "(none)"
        side = sides[(key, row["month"])]
        side.computed += convert(row["computed"] or ZERO, row["computed_currency"], row["month"])
        if row["reported"] is not None:
            side.reported += convert(row["reported"], row["currency"], row["month"])
        side.events += row["events"]
        side.unpriced += row["unpriced_events"]
        if row["price_source"] == "override":
            side.override_events += row["events"]
        if row["tier"] and row["tier"] not in STANDARD_TIERS:
            side.tiers[row["tier"]] += row["events"]
        for kind in ("input", "output", "cache_read", "cache_write", "reasoning"):
            side.tokens[kind] += int(row[f"{kind}_tokens"] or 0)
    found = [
        _row(provider, month, side, overrides, tolerance, reporting)
        for (provider, month), side in sides.items()
    ]
    order = {"gap": 0, "ok": 1, "estimate": 2, "no_usage": 3}
    return sorted(found, key=lambda r: (r.month, order[r.status], r.provider))


def _row(
    provider: str,
    month: date,
    side: _Side,
    overrides: Sequence[Override],
    tolerance: Decimal,
    reporting: str,
) -> ReconcileLine:
    invoiced, computed = (
        _cents(side.invoiced),
        _cents(side.computed),
    )
    gap = computed - invoiced
    status: Status
    if not side.events:
        status = "no_usage"
    elif not side.invoice_lines:
        status = "estimate"
    elif abs(gap) > abs(invoiced) * tolerance:
        status = "gap"
    else:
        status = "ok"
    return ReconcileLine(
        provider=provider,
        month=f"{month:%Y-%m}",
        services=sorted(side.services),
        invoice_ids=sorted(side.invoice_ids),
        invoiced=invoiced,
        computed=computed,
        gap=gap,
        gap_share=float(round(gap / invoiced, 4)) if invoiced else None,
        status=status,
        events=side.events,
        unpriced_events=side.unpriced,
        tokens=dict(side.tokens),
        reported=_cents(side.reported) if side.reported else None,
        list_cost=_cents(side.list_cost) if side.list_cost else None,
        explanation=_explanation(provider, month, side, overrides, gap, status),
        currency=reporting,
    )


def _calls(n: int) -> str:
    return f"{n:,} call" if n == 1 else f"{n:,} calls"


def _plain(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _explanation(
    provider: str,
    month: date,
    side: _Side,
    overrides: Sequence[Override],
    gap: Decimal,
    status: str,
) -> list[str]:
    """What the catalogue cannot see that bears on this row, in sentences."""
    if status == "no_usage":
        return [
            "Invoiced token spend with no usage events: it is allocated by its own lines "
            "(tags and rules)."
        ]
    said = []
    if status == "estimate":
        said.append(
            "No invoice for this month yet: the computed cost stands as an estimate "
            "until it arrives."
        )
    tokens = side.tokens
    cache = tokens["cache_read"] + tokens["cache_write"]
    if cache:
        said.append(
            f"Cache reads were {_share(tokens['cache_read'], tokens['input'])} and cache "
            f"writes {_share(tokens['cache_write'], tokens['input'])} of input tokens, priced "
            "at the catalogue's cache rates."
        )
    elif tokens["input"] and status == "gap" and gap > 0:
        said.append(
            "No cache tokens were reported: prompts the provider cached are invoiced "
            "for less than computed."
        )
    if tokens["reasoning"]:
        said.append(
            f"Reasoning tokens were {_share(tokens['reasoning'], tokens['output'])} of "
            "output tokens."
        )
    for tier, events in sorted(side.tiers.items()):
        said.append(
            f"{_calls(events)} ran in the {tier} tier, which the catalogue prices at "
            "its standard rates."
        )
    if side.list_cost > side.invoiced > 0:
        discount = (side.list_cost - side.invoiced) / side.list_cost
        said.append(
            f"The invoice is {100 * discount:.1f}% below its list cost: a discount "
            "the catalogue's list prices do not have."
        )
    for category, amount in sorted(side.other_charges.items()):
        said.append(
            f"The invoice also holds {_cents(amount)} of {category} charges "
            "(credits, refunds, taxes or purchases), which no call accounts for and are "
            "not compared."
        )
    start = month
    in_force = [
        o
        for o in overrides
        if o.provider in ("", provider)
        and o.valid_from < next_month(start)
        and (o.valid_to is None or o.valid_to > start)
    ]
    if side.override_events:
        prices = "; ".join(
            f"{o.model} {_plain(o.input_per_mtok)}/{_plain(o.output_per_mtok)} {o.currency} "
            "per million tokens"
            f" from {o.valid_from}"
            for o in in_force
        )
        said.append(
            f"Priced at organisation prices: {_calls(side.override_events)}"
            + (f" ({prices})" if prices else "")
            + "."
        )
    if side.unpriced:
        said.append(
            f"Unpriced: {_calls(side.unpriced)}, which count nothing here (the list "
            "of unpriced usage says why)."
        )
    if side.reported:
        said.append(f"The sources reported {_cents(side.reported)} themselves.")
    if status == "gap" and gap < 0:
        said.append(
            "Calls that were never instrumented (a batch job, another application) show as a "
            "gap: the invoice is the cost, split by the usage there is."
        )
    return said


def _cents(amount: Decimal) -> Decimal:
    return rounded(amount, CENT)

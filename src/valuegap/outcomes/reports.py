"""The outcome reports as plain data: one initiative, the portfolio, and the scoreboard.

Everything is worked out from ``Facts`` (what the ledger holds, already read), so the reports
are the same wherever they are shown. Money is Decimal (strings in JSON), ratios are floats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.costs.rules import UNALLOCATED, UNIT_OVERHEAD
from valuegap.decimals import plain
from valuegap.model.manual import spread
from valuegap.model.portfolio import Initiative
from valuegap.outcomes import attribution as stats
from valuegap.outcomes.evaluation import (
    Convert,
    MetricOutcome,
    ValueInterval,
    evaluate,
    value_interval,
    with_captured_share,
)
from valuegap.outcomes.finance import (
    cost_per_outcome,
    coverage,
    money,
    payback,
    ratio,
    roi,
    slope,
    trend,
)
from valuegap.outcomes.periods import Window

ZERO = Decimal(0)
MIN_GROUP = 5  # no figure about fewer people than this is shown
ACTIVITY_NOTE = "Activity is context only: it is not rewarded and never ranked."


@dataclass(frozen=True)
class Facts:
    """What the reports are made of, as read from the ledger."""

    initiatives: Sequence[Initiative]
    costs: Sequence[Mapping[str, Any]]  # initiative, business_unit, category, month, cost
    observations: Sequence[Mapping[str, Any]]
    counts: Sequence[Mapping[str, Any]]
    behaviour: Sequence[Mapping[str, Any]]
    quality: Sequence[Mapping[str, Any]]
    capacity: Sequence[Mapping[str, Any]]
    retirements: Sequence[Mapping[str, Any]]
    convert: Convert
    currency: str
    level: float = 0.95
    drift_threshold: float = 0.05
    count_uncaptured: bool = False
    reviews: Sequence[Mapping[str, Any]] = ()  # initiative, as_of, recommendation


@dataclass
class Assessment:
    """One initiative in one window."""

    initiative: Initiative
    cost_by_category: dict[str, Decimal] = field(default_factory=dict)
    cost_by_month: dict[date, Decimal] = field(default_factory=dict)
    metrics: list[MetricOutcome] = field(default_factory=list)
    outcomes: Decimal = ZERO
    capacity: dict[str, Any] | None = None

    @property
    def total_cost(self) -> Decimal:
        return sum(self.cost_by_category.values(), ZERO)

    def value_by_month(self, window: Window) -> dict[date, Decimal]:
        """The periods' value over their months (as manual costs are spread), within
        ``window``."""
        found: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for m in self.metrics:
            for p in m.periods:
                value = p.value if p.whole_value is None else p.whole_value
                if value is not None:
                    for month, part in spread(value, p.period_start, p.period_end):
                        if window.holds(month):
                            found[month] += part
        return dict(found)

    def interval(self, level: float) -> ValueInterval:
        """The value of all its metrics and its interval (metrics measure different groups,
        so their variances add)."""
        found = value_interval((p for m in self.metrics for p in m.periods), level)
        return found if found.value is not None else ValueInterval(ZERO, ZERO, ZERO)

    @property
    def validated(self) -> bool:
        """Its primary metric decides (the others never validate it alone)."""
        primary = self.primary
        return primary is not None and primary.validated

    @property
    def primary(self) -> MetricOutcome | None:
        chosen = self.initiative.primary_metric
        return next((m for m in self.metrics if chosen and m.metric.id == chosen.id), None)

    @property
    def validation_reason(self) -> str:
        primary = self.primary
        if primary is None:
            return "no success metric is defined"
        return f"{primary.metric.id} (primary): {primary.validation_reason}"

    def holm_significant(self, level: float) -> dict[str, bool]:
        """Per metric, whether its value over the window differs from zero, in the intended
        direction, at family-wise 1 - ``level`` over the initiative's metrics (Holm)."""
        intervals = [m.interval() for m in self.metrics]
        p_values = [i.p_value if i.value is not None and i.value > 0 else None for i in intervals]
        found = stats.holm(p_values, 1 - level)
        return {m.metric.id: f for m, f in zip(self.metrics, found, strict=True)}

    @property
    def state(self) -> str:
        if self.initiative.stage == "retired":
            return "killed"
        return "validated" if self.validated else "not_validated"


def assess(facts: Facts, initiative: Initiative, window: Window) -> Assessment:
    result = Assessment(initiative)
    for row in facts.costs:
        if row["initiative"] == initiative.id and window.holds(row["month"]):
            for parts, key in ((result.cost_by_category, row["category"]),
                               (result.cost_by_month, row["month"])):  # fmt: skip
                parts[key] = parts.get(key, ZERO) + row["cost"]
    capacity = [c for c in facts.capacity if c["initiative"] == initiative.id
                and window.holds(c["period_start"])]  # fmt: skip
    if capacity:
        result.capacity, _ = _capacity(capacity)
    for metric in initiative.metrics:
        measured = [c for c in capacity if c["metric"] == metric.id]
        share = _capacity(measured)[1] if measured and not facts.count_uncaptured else None
        outcome = evaluate(
            metric,
            [o for o in facts.observations if o["metric"] == metric.id],
            [c for c in facts.counts if c["initiative"] == initiative.id
             and c["metric"] == metric.id],
            level=facts.level, convert=facts.convert, window=window,
        )  # fmt: skip
        result.metrics.append(with_captured_share(outcome, share))
    result.outcomes = sum(_outcomes_by_month(facts, initiative.id, window).values(), ZERO)
    return result


def initiative_report(facts: Facts, initiative: Initiative, window: Window) -> dict[str, Any]:
    history = Window(None, window.end)
    so_far = assess(facts, initiative, history)
    a = so_far if window == history else assess(facts, initiative, window)
    value_by_month = so_far.value_by_month(history)
    paid = payback(value_by_month, so_far.cost_by_month)
    interval, cost = a.interval(facts.level), a.total_cost
    holm = a.holm_significant(facts.level)
    return {
        "initiative": {
            "id": initiative.id,
            "name": initiative.name,
            "kind": initiative.kind,
            "business_unit": initiative.business_unit,
            "stage": initiative.stage,
            "risk_tier": initiative.risk_tier,
        },
        "period": window.as_dict(),
        "currency": facts.currency,
        "confidence_level": facts.level,
        "total_cost": money(cost),
        "cost_by_category": {k: money(v) for k, v in sorted(a.cost_by_category.items())},
        **_valued(interval, cost),
        "cumulative_cost": money(so_far.total_cost),
        "cumulative_value": money(sum(value_by_month.values(), ZERO)),
        "payback_month": f"{paid.month:%Y-%m}" if paid.month else None,
        "payback_lapsed": f"{paid.lapsed:%Y-%m}" if paid.lapsed else None,
        "validated": a.validated,
        "validation_reason": a.validation_reason,
        "metrics": [_metric(m, m is a.primary, holm[m.metric.id]) for m in a.metrics],
        "outcomes": _outcomes(facts, initiative.id, window, a),
        "capacity": a.capacity,
        "behaviour": _behaviour(facts, initiative.id, window),
        "quality": _quality(facts, initiative.id, window),
    }


def portfolio_report(facts: Facts, window: Window) -> dict[str, Any]:
    assessed = [assess(facts, i, window) for i in facts.initiatives]
    previous = window.previous()
    before = [assess(facts, i, previous) for i in facts.initiatives] if previous else []
    report = {
        "period": window.as_dict(),
        "currency": facts.currency,
        "confidence_level": facts.level,
        **_coverage(facts, assessed, window),
        "business_units": [],
        "initiatives": [_portfolio_row(a, facts.level) for a in assessed],
    }
    for unit in _units(facts, assessed, window):
        now = _coverage(facts, assessed, window, unit)
        row = {"business_unit": unit, **now}
        if previous is not None:
            then = _coverage(facts, before, previous, unit)["attribution_coverage"]
            row["previous_attribution_coverage"] = then
            row["coverage_change"] = _change(now["attribution_coverage"], then)
        report["business_units"].append(row)
    if previous is not None:
        then = _coverage(facts, before, previous)["attribution_coverage"]
        report["previous_attribution_coverage"] = then
        report["coverage_change"] = _change(report["attribution_coverage"], then)
    return report


def scoreboard(facts: Facts, window: Window, activity: Mapping[str, int]) -> dict[str, Any]:
    previous = window.previous()
    now = [assess(facts, i, window) for i in facts.initiatives]
    then = [assess(facts, i, previous) for i in facts.initiatives] if previous else []
    retired = {r["initiative"] for r in facts.retirements if window.holds(r["day"])}
    history = Window(None, window.end)
    said = {r["initiative"]: r["recommendation"] for r in sorted(facts.reviews,
            key=lambda r: r["as_of"]) if window.end is None or r["as_of"] < window.end}  # fmt: skip
    laggards = {i.id for i in facts.initiatives if i.id in retired and (
        said.get(i.id) == "kill" or not assess(facts, i, history).validated)}  # fmt: skip
    units = _units(facts, now, window)
    lines = [_score(facts, u, now, then, window, previous, laggards) for u in [*units, None]]
    users = activity.get("users", 0)
    return {
        "period": window.as_dict(),
        "previous_period": previous.as_dict() if previous else None,
        "currency": facts.currency,
        "overall": lines[-1],
        "business_units": lines[:-1],
        "context": {
            "note": ACTIVITY_NOTE,
            "requests": activity.get("requests", 0),
            "tokens": activity.get("tokens", 0),
            # fewer people than the smallest group shown could be singled out
            "active_users": users if users >= MIN_GROUP else None,
        },
    }


# The pieces.


def readable(statistic: float | None) -> float | None:
    """An effect, a bound or a standard error to 10 significant digits, as people read it
    (40.3 - 40.2 is 0.1, not 0.09999999999999432)."""
    return None if statistic is None else float(f"{statistic:.10g}")


def _valued(interval: ValueInterval, cost: Decimal) -> dict[str, Any]:
    """Value, its interval, ROI and conservative ROI; no interval, and why, where a part of
    the value has none."""
    value = interval.value or ZERO
    return {
        "value": money(value),
        "value_low": interval.low,
        "value_high": interval.high,
        "no_interval": interval.no_interval,
        "roi": roi(value, cost),
        "roi_conservative": None if interval.low is None else roi(interval.low, cost),
    }


def _portfolio_row(a: Assessment, level: float) -> dict[str, Any]:
    interval, cost = a.interval(level), a.total_cost
    i = a.initiative
    return {
        "id": i.id, "name": i.name, "business_unit": i.business_unit, "stage": i.stage,
        "state": a.state, "total_cost": money(cost), **_valued(interval, cost),
        "validated": a.validated,
        "validation_reason": a.validation_reason, "successful_outcomes": _count(a.outcomes),
        "cost_per_outcome": cost_per_outcome(cost, a.outcomes),
    }  # fmt: skip


def _units(facts: Facts, assessed: Sequence[Assessment], window: Window) -> list[str]:
    """The business units with an initiative, or with cost in the window."""
    charged = {r["business_unit"] for r in facts.costs if window.holds(r["month"])}
    return sorted(({a.initiative.business_unit for a in assessed} | charged) - {UNALLOCATED})


def _coverage(
    facts: Facts, assessed: Sequence[Assessment], window: Window, unit: str | None = None
) -> dict[str, Any]:
    """Attribution coverage of all cost in ``window`` (of one business unit, if given): the
    cost of initiatives with a validated outcome over all cost, unallocated included. Credits
    stay in the totals, but in coverage an initiative, a unit's overhead or the unallocated
    cost whose credits exceed its charges counts as zero, so that coverage stays in [0, 1]."""
    validated = {a.initiative.id for a in assessed if a.validated}
    rows = [r for r in facts.costs if window.holds(r["month"])]
    if unit is not None:
        rows = [r for r in rows if r["business_unit"] == unit]
    buckets: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for r in rows:  # (initiative, business unit): a unit's overhead is the unit's own
        buckets[(r["initiative"], r["business_unit"])] += r["cost"]
    covered = {key for key in buckets if key[0] in validated}
    found = {
        "attribution_coverage": coverage(buckets, covered),
        "total_cost": money(sum(buckets.values(), ZERO)),
        "validated_cost": money(sum((buckets[key] for key in covered), ZERO)),
    }
    if unit is None:
        for name, label in (
            ("unallocated_cost", UNALLOCATED),
            ("unit_overhead_cost", UNIT_OVERHEAD),
        ):
            found[name] = money(sum((c for (i, _), c in buckets.items() if i == label), ZERO))
    return found


def _score(
    facts: Facts,
    unit: str | None,
    now: Sequence[Assessment],
    then: Sequence[Assessment],
    window: Window,
    previous: Window | None,
    laggards: set[str],
) -> dict[str, Any]:
    def mine(assessed: Sequence[Assessment]) -> list[Assessment]:
        return [a for a in assessed if unit is None or a.initiative.business_unit == unit]

    current = _coverage(facts, now, window, unit)["attribution_coverage"]
    earlier = _coverage(facts, then, previous, unit)["attribution_coverage"] if previous else None
    unit_cost, before = _cost_per_outcome(mine(now)), _cost_per_outcome(mine(then))
    return {
        "business_unit": unit if unit is not None else "(all)",
        "attribution_coverage": current,
        "previous_attribution_coverage": earlier,
        "coverage_change": _change(current, earlier),
        "laggards_retired": [a.initiative.id for a in mine(now) if a.initiative.id in laggards],
        "cost_per_outcome": unit_cost,
        "previous_cost_per_outcome": before,
        "cost_per_outcome_falling": None if unit_cost is None or before is None
        else unit_cost < before,
    }  # fmt: skip


def _cost_per_outcome(assessed: Iterable[Assessment]) -> Decimal | None:
    counted = [a for a in assessed if a.outcomes]
    cost = sum((a.total_cost for a in counted), ZERO)
    return cost_per_outcome(cost, sum(a.outcomes for a in counted))


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 4)


def _metric(m: MetricOutcome, primary: bool, holm_significant: bool) -> dict[str, Any]:
    latest, total = m.latest, m.interval()
    return {
        "id": m.metric.id,
        "primary": primary,
        "holm_significant": holm_significant,
        "name": m.metric.name,
        "unit": m.metric.unit,
        "method": m.metric.method,
        "agreed_at": m.metric.agreed_at,
        "agreement_recorded": m.metric.agreement_recorded,
        "effect": readable(latest.effect) if latest else None,
        "effect_low": readable(latest.effect_low) if latest else None,
        "effect_high": readable(latest.effect_high) if latest else None,
        "std_error": readable(latest.std_error) if latest else None,
        "value": total.value,
        "value_low": total.low,
        "value_high": total.high,
        "no_interval": total.no_interval,
        "captured_share": None if m.captured_share is None else ratio(m.captured_share, 1),
        "validated": m.validated,
        "validation_reason": m.validation_reason,
        "periods": [
            {
                "period_start": p.period_start,
                "period_end": p.period_end,
                "effect": readable(p.effect),
                "effect_low": readable(p.effect_low),
                "effect_high": readable(p.effect_high),
                "std_error": readable(p.std_error),
                "volume": p.volume,
                "value": p.value,
                "value_low": p.value_low,
                "value_high": p.value_high,
                "validated": p.validated,
                "validation_reason": p.validation_reason,
            }
            for p in m.periods
        ],
    }


def _outcomes_by_month(facts: Facts, initiative: str, window: Window) -> dict[date, Decimal]:
    """The initiative's successful outcomes in each month of ``window``: a period's count is
    spread over its months as costs are."""
    counts: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for c in facts.counts:
        if c["initiative"] == initiative and window.overlaps(c["period_start"], c["period_end"]):
            for month, part in spread(Decimal(c["count"]), c["period_start"], c["period_end"]):
                if window.holds(month):
                    counts[month] += part
    return dict(counts)


def _outcomes(facts: Facts, initiative: str, window: Window, a: Assessment) -> dict[str, Any]:
    counts = _outcomes_by_month(facts, initiative, window)
    costs = a.cost_by_month
    per_outcome = {m: cost_per_outcome(costs.get(m, ZERO), counts[m]) for m in sorted(counts)}
    by_month = [
        {"month": f"{m:%Y-%m}", "outcomes": _count(counts[m]), "cost": money(costs.get(m, ZERO)),
         "cost_per_outcome": per_outcome[m]}
        for m in sorted(counts)
    ]  # fmt: skip
    return {
        "successful_outcomes": _count(a.outcomes),
        "cost_per_outcome": cost_per_outcome(a.total_cost, a.outcomes),
        "trend": trend(per_outcome.values()),
        "trend_slope": slope(per_outcome.values()),
        "trend_months": len(per_outcome),
        "by_month": by_month,
    }


def _count(outcomes: Decimal) -> int | float:
    """A number of outcomes: whole, or to two decimals where a period spreads over months."""
    whole = outcomes.to_integral_value()
    return int(whole) if whole == outcomes else float(round(outcomes, 2))


def _capacity(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], Decimal | None]:
    """Hours saved by split, and the captured share (exact, to scale value with)."""
    names = ("redeployed", "cost_reduced", "not_captured")
    split = {k: plain(sum((r[k] for r in rows), ZERO)) for k in names}
    saved = sum(split.values(), ZERO)
    captured = split["redeployed"] + split["cost_reduced"]
    summary = {
        "hours_saved": saved, **split, "captured_hours": captured,
        "captured_share": ratio(captured, saved),
    }  # fmt: skip
    return summary, (captured / saved if saved else None)


def _behaviour(facts: Facts, initiative: str, window: Window) -> dict[str, Any] | None:
    rows = [b for b in facts.behaviour
            if b["initiative"] == initiative and window.holds(b["period_start"])]  # fmt: skip
    if not rows:
        return None

    def rates(found: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        total = {k: sum(int(r[k]) for r in found)
                 for k in ("decisions", "accepted", "overridden", "escalated")}  # fmt: skip
        minutes = sum((r["review_minutes"] or ZERO for r in found), ZERO)
        decisions = total["decisions"]
        return {
            **total, "review_minutes": minutes,
            "override_rate": ratio(total["overridden"], decisions),
            "acceptance_rate": ratio(total["accepted"], decisions),
            "escalation_rate": ratio(total["escalated"], decisions),
            "review_minutes_per_decision": ratio(minutes, decisions),
        }  # fmt: skip

    periods = [{"period_start": r["period_start"], "period_end": r["period_end"], **rates([r])}
               for r in rows]  # fmt: skip
    return {
        **rates(rows),
        "override_rate_trend": trend(p["override_rate"] for p in periods),
        "periods": periods,
    }


def _quality(facts: Facts, initiative: str, window: Window) -> list[dict[str, Any]]:
    mine = [q for q in facts.quality if q["initiative"] == initiative]
    found = []
    for measure in sorted({q["measure"] for q in mine}):
        rows = [q for q in mine if q["measure"] == measure]
        references = [q for q in rows if q["reference"]]
        measured = [q for q in rows if not q["reference"] and window.holds(q["period_start"])]
        reference = references[-1] if references else None
        latest = measured[-1] if measured else None
        drop = (reference["score"] - latest["score"]) if reference and latest else None
        found.append({
            "measure": measure,
            "reference": reference["score"] if reference else None,
            "latest": latest["score"] if latest else None,
            "latest_period_start": latest["period_start"] if latest else None,
            "sample_size": latest["sample_size"] if latest else None,
            "drop": None if drop is None else round(drop, 4),
            "threshold": facts.drift_threshold,
            "drifted": drop is not None and drop > facts.drift_threshold,
        })  # fmt: skip
    return found

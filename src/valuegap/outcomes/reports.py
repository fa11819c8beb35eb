"""The outcome reports: one initiative, the portfolio, and the scoreboard (``results``).

Everything is worked out from ``Facts`` (what the ledger holds, already read), so the reports
are the same wherever they are shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

from valuegap.costs.rules import UNALLOCATED, UNIT_OVERHEAD
from valuegap.model.portfolio import Initiative
from valuegap.outcomes.assessment import (
    ZERO,
    Assessment,
    assess,
    outcomes_by_month,
    validated_ids,
)
from valuegap.outcomes.evaluation import MetricOutcome, ValueInterval
from valuegap.outcomes.facts import Facts
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
from valuegap.outcomes.results import (
    ActivityContext,
    Behaviour,
    BehaviourPeriod,
    Count,
    DecisionRates,
    InitiativeReport,
    InitiativeSummary,
    InitiativeValue,
    MetricPeriod,
    MetricResult,
    MonthOutcomes,
    Period,
    PortfolioReport,
    QualityDrift,
    Scoreboard,
    ScoreLine,
    SuccessfulOutcomes,
    UnitCoverage,
)
from valuegap.outcomes.unit_outcomes import business_units
from valuegap.records import record
from valuegap.store.outcomes import Activity, Decisions

MIN_GROUP = 5  # no figure about fewer people than this is shown
ACTIVITY_NOTE = "Activity is context only: it is not rewarded and never ranked."


def initiative_report(facts: Facts, initiative: Initiative, window: Window) -> InitiativeReport:
    history = Window(None, window.end)
    so_far = assess(facts, initiative, history)
    a = so_far if window == history else assess(facts, initiative, window)
    value_by_month = so_far.value_by_month(history)
    paid = payback(value_by_month, so_far.cost_by_month)
    cost = a.total_cost
    valued = _Valued.of(a.interval(facts.level), cost)
    holm = a.holm_significant(facts.level)
    return InitiativeReport(
        initiative=InitiativeSummary(
            id=initiative.id,
            name=initiative.name,
            kind=initiative.kind,
            business_unit=initiative.business_unit,
            stage=initiative.stage,
            risk_tier=initiative.risk_tier,
        ),
        period=Period.of(window),
        currency=facts.currency,
        confidence_level=facts.level,
        total_cost=money(cost),
        cost_by_category={k: money(v) for k, v in sorted(a.cost_by_category.items())},
        value=valued.value,
        value_low=valued.low,
        value_high=valued.high,
        no_interval=valued.no_interval,
        roi=valued.roi,
        roi_conservative=valued.roi_conservative,
        cumulative_cost=money(so_far.total_cost),
        cumulative_value=money(sum(value_by_month.values(), ZERO)),
        payback_month=f"{paid.month:%Y-%m}" if paid.month else None,
        payback_lapsed=f"{paid.lapsed:%Y-%m}" if paid.lapsed else None,
        validated=a.validated,
        validation_reason=a.validation_reason,
        metrics=[_metric(m, m is a.primary, holm[m.metric.id]) for m in a.metrics],
        outcomes=_outcomes(facts, initiative.id, window, a),
        capacity=a.capacity,
        behaviour=_behaviour(facts, initiative.id, window),
        quality=_quality(facts, initiative.id, window),
    )


def portfolio_report(facts: Facts, window: Window) -> PortfolioReport:
    assessed = [assess(facts, i, window) for i in facts.initiatives]
    previous = window.previous()
    before = [assess(facts, i, previous) for i in facts.initiatives] if previous else []
    validated, validated_before = validated_ids(assessed), validated_ids(before)

    def coverage_before(unit: str | None) -> float | None:
        if previous is None:
            return None
        return window_coverage(facts, validated_before, previous, unit).attribution_coverage

    units = []
    for unit in business_units(facts, assessed, window):
        now, then = window_coverage(facts, validated, window, unit), coverage_before(unit)
        units.append(
            UnitCoverage(
                business_unit=unit,
                attribution_coverage=now.attribution_coverage,
                total_cost=now.total_cost,
                validated_cost=now.validated_cost,
                previous_attribution_coverage=then,
                coverage_change=_change(now.attribution_coverage, then),
            )
        )
    total, then = window_coverage(facts, validated, window), coverage_before(None)
    return PortfolioReport(
        period=Period.of(window),
        currency=facts.currency,
        confidence_level=facts.level,
        attribution_coverage=total.attribution_coverage,
        total_cost=total.total_cost,
        validated_cost=total.validated_cost,
        unallocated_cost=total.unallocated_cost,
        unit_overhead_cost=total.unit_overhead_cost,
        business_units=units,
        initiatives=[_portfolio_row(a, facts.level) for a in assessed],
        previous_attribution_coverage=then,
        coverage_change=_change(total.attribution_coverage, then),
    )


def scoreboard(facts: Facts, window: Window, activity: Activity) -> Scoreboard:
    previous = window.previous()
    now = [assess(facts, i, window) for i in facts.initiatives]
    then = [assess(facts, i, previous) for i in facts.initiatives] if previous else []
    retired = {r.initiative for r in facts.retirements if window.holds(r.day)}
    history = Window(None, window.end)
    said = {
        r.initiative: r.recommendation
        for r in sorted(facts.reviews, key=lambda r: r.as_of)
        if window.end is None or r.as_of < window.end
    }
    laggards = {i.id for i in facts.initiatives if i.id in retired and (
        said.get(i.id) == "kill" or not assess(facts, i, history).validated)}  # fmt: skip
    units = business_units(facts, now, window)
    lines = [_score(facts, u, now, then, window, previous, laggards) for u in [*units, None]]
    return Scoreboard(
        period=Period.of(window),
        previous_period=Period.of(previous) if previous else None,
        currency=facts.currency,
        overall=lines[-1],
        business_units=lines[:-1],
        context=ActivityContext(
            note=ACTIVITY_NOTE,
            requests=activity.requests,
            tokens=activity.tokens,
            # fewer people than the smallest group shown could be singled out
            active_users=activity.users if activity.users >= MIN_GROUP else None,
        ),
    )


# The pieces.


def readable(statistic: float | None) -> float | None:
    """An effect, a bound or a standard error to 10 significant digits, as people read it
    (40.3 - 40.2 is 0.1, not 0.09999999999999432)."""
    return None if statistic is None else float(f"{statistic:.10g}")


@record
class _Valued:
    """Value, its interval, ROI and conservative ROI; no interval, and why, where a part of
    the value has none."""

    value: Decimal
    low: Decimal | None
    high: Decimal | None
    no_interval: str | None
    roi: float | None
    roi_conservative: float | None

    @classmethod
    def of(cls, interval: ValueInterval, cost: Decimal) -> _Valued:
        value = interval.value or ZERO
        return cls(
            value=money(value),
            low=interval.low,
            high=interval.high,
            no_interval=interval.no_interval,
            roi=roi(value, cost),
            roi_conservative=None if interval.low is None else roi(interval.low, cost),
        )


def _portfolio_row(a: Assessment, level: float) -> InitiativeValue:
    cost, i = a.total_cost, a.initiative
    valued = _Valued.of(a.interval(level), cost)
    return InitiativeValue(
        id=i.id,
        name=i.name,
        business_unit=i.business_unit,
        stage=i.stage,
        state=a.state,
        total_cost=money(cost),
        value=valued.value,
        value_low=valued.low,
        value_high=valued.high,
        no_interval=valued.no_interval,
        roi=valued.roi,
        roi_conservative=valued.roi_conservative,
        validated=a.validated,
        validation_reason=a.validation_reason,
        successful_outcomes=_count(a.outcomes),
        cost_per_outcome=cost_per_outcome(cost, a.outcomes),
    )


@record
class Coverage:
    attribution_coverage: float | None
    total_cost: Decimal
    validated_cost: Decimal
    unallocated_cost: Decimal
    unit_overhead_cost: Decimal


def window_coverage(
    facts: Facts, validated: Collection[str], window: Window, unit: str | None = None
) -> Coverage:
    """Attribution coverage of all cost in ``window`` (of one business unit, if given): the
    cost of the initiatives ``validated`` (those with a validated outcome in the window) over
    all cost, unallocated included. Credits stay in the totals, but in coverage an initiative,
    a unit's overhead or the unallocated cost whose credits exceed its charges counts as zero,
    so that coverage stays in [0, 1]."""
    rows = [r for r in facts.costs if window.holds(r.month)]
    if unit is not None:
        rows = [r for r in rows if r.business_unit == unit]
    buckets: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for r in rows:  # (initiative, business unit): a unit's overhead is the unit's own
        buckets[(r.initiative, r.business_unit)] += r.cost
    covered = {key for key in buckets if key[0] in validated}

    def charged_to(label: str) -> Decimal:
        return money(sum((c for (i, _), c in buckets.items() if i == label), ZERO))

    return Coverage(
        attribution_coverage=coverage(buckets, covered),
        total_cost=money(sum(buckets.values(), ZERO)),
        validated_cost=money(sum((buckets[key] for key in covered), ZERO)),
        unallocated_cost=charged_to(UNALLOCATED),
        unit_overhead_cost=charged_to(UNIT_OVERHEAD),
    )


def _score(
    facts: Facts,
    unit: str | None,
    now: Sequence[Assessment],
    then: Sequence[Assessment],
    window: Window,
    previous: Window | None,
    laggards: set[str],
) -> ScoreLine:
    def mine(assessed: Sequence[Assessment]) -> list[Assessment]:
        return [a for a in assessed if unit is None or a.initiative.business_unit == unit]

    current = window_coverage(facts, validated_ids(now), window, unit).attribution_coverage
    earlier = (
        window_coverage(facts, validated_ids(then), previous, unit).attribution_coverage
        if previous
        else None
    )
    unit_cost, before = _cost_per_outcome(mine(now)), _cost_per_outcome(mine(then))
    falling = None if unit_cost is None or before is None else unit_cost < before
    return ScoreLine(
        business_unit=unit if unit is not None else "(all)",
        attribution_coverage=current,
        previous_attribution_coverage=earlier,
        coverage_change=_change(current, earlier),
        laggards_retired=[a.initiative.id for a in mine(now) if a.initiative.id in laggards],
        cost_per_outcome=unit_cost,
        previous_cost_per_outcome=before,
        cost_per_outcome_falling=falling,
    )


def _cost_per_outcome(assessed: Iterable[Assessment]) -> Decimal | None:
    counted = [a for a in assessed if a.outcomes]
    cost = sum((a.total_cost for a in counted), ZERO)
    return cost_per_outcome(cost, sum(a.outcomes for a in counted))


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 4)


def _metric(m: MetricOutcome, primary: bool, holm_significant: bool) -> MetricResult:
    latest, total = m.latest, m.interval()
    return MetricResult(
        id=m.metric.id,
        primary=primary,
        holm_significant=holm_significant,
        name=m.metric.name,
        unit=m.metric.unit,
        method=m.metric.method,
        agreed_at=m.metric.agreed_at,
        agreement_recorded=m.metric.agreement_recorded,
        effect=readable(latest.effect) if latest else None,
        effect_low=readable(latest.effect_low) if latest else None,
        effect_high=readable(latest.effect_high) if latest else None,
        std_error=readable(latest.std_error) if latest else None,
        value=total.value,
        value_low=total.low,
        value_high=total.high,
        no_interval=total.no_interval,
        captured_share=None if m.captured_share is None else ratio(m.captured_share, 1),
        validated=m.validated,
        validation_reason=m.validation_reason,
        periods=[
            MetricPeriod(
                period_start=p.period_start,
                period_end=p.period_end,
                effect=readable(p.effect),
                effect_low=readable(p.effect_low),
                effect_high=readable(p.effect_high),
                std_error=readable(p.std_error),
                volume=p.volume,
                value=p.value,
                value_low=p.value_low,
                value_high=p.value_high,
                validated=p.validated,
                validation_reason=p.validation_reason,
            )
            for p in m.periods
        ],
    )


def _outcomes(facts: Facts, initiative: str, window: Window, a: Assessment) -> SuccessfulOutcomes:
    counts = outcomes_by_month(facts, initiative, window)
    costs = a.cost_by_month
    per_outcome = {m: cost_per_outcome(costs.get(m, ZERO), counts[m]) for m in sorted(counts)}
    by_month = [
        MonthOutcomes(
            month=f"{m:%Y-%m}",
            outcomes=_count(counts[m]),
            cost=money(costs.get(m, ZERO)),
            cost_per_outcome=per_outcome[m],
        )
        for m in sorted(counts)
    ]
    return SuccessfulOutcomes(
        successful_outcomes=_count(a.outcomes),
        cost_per_outcome=cost_per_outcome(a.total_cost, a.outcomes),
        trend=trend(per_outcome.values()),
        trend_slope=slope(per_outcome.values()),
        trend_months=len(per_outcome),
        by_month=by_month,
    )


def _count(outcomes: Decimal) -> Count:
    """A number of outcomes: whole, or to two decimals where a period spreads over months."""
    whole = outcomes.to_integral_value()
    return int(whole) if whole == outcomes else float(round(outcomes, 2))


def _rates(rows: Sequence[Decisions]) -> DecisionRates:
    decisions = sum(r.decisions for r in rows)
    accepted = sum(r.accepted for r in rows)
    overridden = sum(r.overridden for r in rows)
    escalated = sum(r.escalated for r in rows)
    minutes = sum((r.review_minutes or ZERO for r in rows), ZERO)
    return DecisionRates(
        decisions=decisions,
        accepted=accepted,
        overridden=overridden,
        escalated=escalated,
        review_minutes=minutes,
        override_rate=ratio(overridden, decisions),
        acceptance_rate=ratio(accepted, decisions),
        escalation_rate=ratio(escalated, decisions),
        review_minutes_per_decision=ratio(minutes, decisions),
    )


def _behaviour(facts: Facts, initiative: str, window: Window) -> Behaviour | None:
    rows = [
        b for b in facts.behaviour if b.initiative == initiative and window.holds(b.period_start)
    ]
    if not rows:
        return None
    periods = [
        BehaviourPeriod(**vars(_rates([r])), period_start=r.period_start, period_end=r.period_end)
        for r in rows
    ]
    return Behaviour(
        **vars(_rates(rows)),
        override_rate_trend=trend(p.override_rate for p in periods),
        periods=periods,
    )


def _quality(facts: Facts, initiative: str, window: Window) -> list[QualityDrift]:
    mine = [q for q in facts.quality if q.initiative == initiative]
    found = []
    for measure in sorted({q.measure for q in mine}):
        rows = [q for q in mine if q.measure == measure]
        references = [q for q in rows if q.reference]
        measured = [q for q in rows if not q.reference and window.holds(q.period_start)]
        reference = references[-1] if references else None
        latest = measured[-1] if measured else None
        drop = reference.score - latest.score if reference and latest else None
        found.append(
            QualityDrift(
                measure=measure,
                reference=reference.score if reference else None,
                latest=latest.score if latest else None,
                latest_period_start=latest.period_start if latest else None,
                sample_size=latest.sample_size if latest else None,
                drop=None if drop is None else round(drop, 4),
                threshold=facts.drift_threshold,
                drifted=drop is not None and drop > facts.drift_threshold,
            )
        )
    return found

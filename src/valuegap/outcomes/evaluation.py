"""A success metric's outcome per measurement period: effect, interval, value, validated.

A measurement period is one of the metric's ``after`` observations (for ``direct``, one of its
outcome counts). Its ``before`` figure is the same group's latest ``before`` observation that
ended by the period's start, or else the metric's declared baseline (a figure without spread);
a difference-in-differences takes the latest before period that both groups have. The value is
effect x volume x value per unit, converted to the reporting currency; volume is the after
(treatment) row's, and 1 when the metric declares no volume basis.

The interval of a value, of one period or summed over many (``value_interval``), comes from the
groups' variances (``attribution.combined_spread``), never from adding lower bounds; a value
without an interval has none, and so has any total that includes it.

A period is **validated** when the ledger recorded finance's agreement to the method before the
period began, and the interval excludes zero in the intended direction (for ``direct``: the
counts name their system of record). Anything else says why not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field, replace
from datetime import date
from decimal import Decimal, localcontext

from valuegap.decimals import plain, significant
from valuegap.model.portfolio import MetricSpec
from valuegap.months import whole_months
from valuegap.outcomes import attribution as stats
from valuegap.outcomes.finance import money
from valuegap.outcomes.periods import Window
from valuegap.records import record
from valuegap.store.outcomes import Observation, OutcomeCount
from valuegap.words import counted

Convert = Callable[[str, date], Decimal]  # (currency, month) -> rate into the reporting currency


@record
class PeriodOutcome:
    period_start: date
    period_end: date
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    std_error: float | None = None
    volume: Decimal | None = None
    value: Decimal | None = None
    value_low: Decimal | None = None
    value_high: Decimal | None = None
    validated: bool = False
    validation_reason: str = ""
    estimate: stats.Estimate | None = None
    per_unit: Decimal | None = None  # value per unit of effect, in the reporting currency
    whole_value: Decimal | None = None  # the whole period's value, when only a part is in it


@record
class ValueInterval:
    """A value and its interval; no interval (None) when a part of it has none, and why."""

    value: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    no_interval: str | None = None
    std_error: float | None = None  # of the value (0 when it is exact)
    dof: float | None = None

    @property
    def p_value(self) -> float | None:
        """Two-sided, of the value being zero; none without an interval."""
        if self.value is None or self.std_error is None:
            return None
        if self.std_error == 0:
            return 0.0 if self.value != 0 else 1.0
        assert self.dof is not None
        return stats.two_sided_p(float(self.value) / self.std_error, self.dof)


def value_interval(periods: Iterable[PeriodOutcome], level: float) -> ValueInterval:
    """The sum of the periods' values and its interval, from their groups' variances (the
    covariance of periods that share a group included)."""
    valued = [p for p in periods if p.value is not None and p.per_unit is not None]
    if not valued:
        return ValueInterval()
    value = sum((p.value for p in valued if p.value is not None), Decimal(0))
    for p in valued:
        if p.estimate is None or not p.estimate.has_interval:
            why = p.estimate.no_interval if p.estimate else None
            return ValueInterval(value, no_interval=f"{_span(p)}: {why or 'no interval'}")
    parts = [(float(p.per_unit or 0), p.estimate.terms if p.estimate else ()) for p in valued]
    spread = stats.combined_spread(parts, level)
    if isinstance(spread, str):
        return ValueInterval(value, no_interval=spread)
    std_error, dof, half_width = spread
    half = Decimal(repr(half_width))
    return ValueInterval(value, money(value - half), money(value + half), None, std_error, dof)


@record
class MetricOutcome:
    metric: MetricSpec
    periods: list[PeriodOutcome] = field(default_factory=list)
    captured_share: Decimal | None = None  # applied to the value of the saved hours
    level: float = 0.95

    @property
    def latest(self) -> PeriodOutcome | None:
        return self.periods[-1] if self.periods else None

    @property
    def validated(self) -> bool:
        return bool(self.periods) and all(p.validated for p in self.periods)

    @property
    def validation_reason(self) -> str:
        if self.metric.method is None:
            return "no attribution method is set"
        if not self.periods:
            return "nothing was measured in the period"
        failing = next((p for p in self.periods if not p.validated), None)
        if failing is not None:
            return f"{_span(failing)}: {failing.validation_reason}"
        if len(self.periods) == 1:
            return self.periods[0].validation_reason
        return f"validated in all {len(self.periods)} periods; latest: " + (
            self.periods[-1].validation_reason
        )

    def interval(self) -> ValueInterval:
        """The value summed over the periods, with its interval."""
        return value_interval(self.periods, self.level)


def evaluate(
    metric: MetricSpec,
    observations: Sequence[Observation],
    counts: Sequence[OutcomeCount],
    *,
    level: float,
    convert: Convert,
    window: Window,
) -> MetricOutcome:
    """The metric's outcome in each measurement period beginning in ``window``."""
    if metric.method is None:
        return MetricOutcome(metric)
    if metric.method == "direct":
        periods = [
            _direct(metric, c, convert)
            for c in counts
            if window.overlaps(c.period_start, c.period_end)
        ]
    else:
        after = sorted({(o.period_start, o.period_end) for o in observations if o.phase == "after"})
        periods = [
            _measured(metric, observations, s, e, level, convert)
            for s, e in after
            if window.overlaps(s, e)
        ]
    return MetricOutcome(metric, [_in(p, window, level) for p in periods], level=level)


def _in(period: PeriodOutcome, window: Window, level: float) -> PeriodOutcome:
    """The part of a period's value earned in ``window`` (its months in the window), with
    the interval of that part."""
    start, end = period.period_start, period.period_end
    share = window.part_of(Decimal(1), start, end)
    if share == 1 or period.value is None or period.per_unit is None:
        return period
    part = replace(
        period,
        value=money(window.part_of(period.value, start, end)),
        per_unit=period.per_unit * share,
        whole_value=period.value,
    )
    interval = value_interval([part], level)
    return replace(part, value_low=interval.low, value_high=interval.high)


def with_captured_share(outcome: MetricOutcome, share: Decimal | None) -> MetricOutcome:
    """Only captured hours are realised value: scale the value of the metric that measures
    the saved hours by the captured share."""
    if share is None:
        return outcome
    scaled = []
    for p in outcome.periods:
        if p.value is None or p.per_unit is None:
            scaled.append(p)
            continue
        whole = None if p.whole_value is None else money(p.whole_value * share)
        shared = replace(
            p, value=money(p.value * share), per_unit=p.per_unit * share, whole_value=whole
        )
        interval = value_interval([shared], outcome.level)
        scaled.append(replace(shared, value_low=interval.low, value_high=interval.high))
    return replace(outcome, periods=scaled, captured_share=share)


def _direct(metric: MetricSpec, count: OutcomeCount, convert: Convert) -> PeriodOutcome:
    """Counted outcomes; above the declared baseline (a count a month) for the same length of
    time, where the metric declares one."""
    start, end, n = count.period_start, count.period_end, count.count
    expected = None
    if metric.baseline is not None:
        expected = metric.baseline.value * _months(start, end)
        effect = (Decimal(n) - expected) * stats.direction_sign(metric.direction)
    else:
        effect = Decimal(n)
    outcome = _valued(metric, start, end, stats.direct(float(effect)), Decimal(1), convert)
    agreed = _agreement(metric, start)
    if agreed:
        return replace(outcome, validation_reason=agreed)
    if not count.source:
        return replace(outcome, validation_reason="the outcome counts name no system of record")
    if n == 0:
        return replace(outcome, validation_reason="no successful outcomes were counted")
    reason = f"{counted(n, 'successful outcome')} counted in {count.source}"
    if expected is not None:
        reason += (
            f", {plain(money(effect))} better than the baseline's {plain(money(expected))} "
            "for the same length of time"
        )
        if effect <= 0:
            return replace(outcome, validation_reason=f"{reason}: no improvement")
    return replace(
        outcome, validated=True, validation_reason=f"{reason}; " + _agreed_in_advance(metric)
    )


def _months(start: date, end: date) -> Decimal:
    """A period's length in months: whole months, or days at 365.25 / 12 a month."""
    whole = whole_months(start, end)
    if whole is not None:
        return Decimal(whole)
    return Decimal((end - start).days) * 12 / Decimal("365.25")


def _measured(
    metric: MetricSpec,
    observations: Sequence[Observation],
    start: date,
    end: date,
    level: float,
    convert: Convert,
) -> PeriodOutcome:
    sign = stats.direction_sign(metric.direction)

    def after(group: str) -> Observation | None:
        return next(
            (
                o
                for o in observations
                if o.phase == "after"
                and o.group == group
                and (o.period_start, o.period_end) == (start, end)
            ),
            None,
        )

    def befores(group: str) -> dict[tuple[date, date], Observation]:
        """The group's before observations that ended by the period's start, by period."""
        found = {}
        for o in observations:
            if o.phase == "before" and o.group == group and o.period_end <= start:
                found[(o.period_start, o.period_end)] = o
        return found

    def before(group: str) -> Observation | None:
        found = befores(group)
        return found[max(found, key=lambda k: (k[1], k[0]))] if found else None

    empty = PeriodOutcome(start, end)
    estimate: stats.Estimate
    if metric.method == "before_after":
        group = "all" if after("all") else "treatment"
        measured, baseline = after(group), before(group)
        if measured is None:
            return replace(empty, validation_reason="no after observation of the group 'all' "
                           "or 'treatment'")  # fmt: skip
        if baseline is not None:
            estimate = stats.before_after(_group(measured), _group(baseline), sign, level)
        elif metric.baseline is not None:
            estimate = stats.against_baseline(
                _group(measured), float(metric.baseline.value), sign, level
            )
        else:
            return replace(empty, validation_reason="no before observation and no baseline")
        volume_row = measured
    elif metric.method == "ab_test":
        treatment, control = after("treatment"), after("control")
        if treatment is None or control is None:
            return replace(empty, validation_reason="an A/B test needs treatment and control "
                           "observations for the period")  # fmt: skip
        estimate = stats.ab_test(_group(treatment), _group(control), sign, level)
        volume_row = treatment
    else:  # diff_in_diff
        treated, controls = befores("treatment"), befores("control")
        common = sorted(set(treated) & set(controls), key=lambda k: (k[1], k[0]))
        treatment, control = after("treatment"), after("control")
        if treatment is None or control is None or not treated or not controls:
            return replace(empty, validation_reason="a difference-in-differences needs treatment "
                           "and control observations, each before and after")  # fmt: skip
        if not common:
            return replace(
                empty,
                validation_reason="the treatment and control groups have no before period in "
                f"common (treatment: {_periods(treated)}; control: {_periods(controls)}): a "
                "difference-in-differences compares them on the same periods",
            )
        paired = common[-1]
        ta, ca = _group(treatment), _group(control)
        tb, cb = _group(treated[paired]), _group(controls[paired])
        estimate = stats.diff_in_diff(ta, tb, ca, cb, sign, level)
        volume_row = treatment
    volume = volume_row.volume
    if volume is None and metric.volume_basis is None:
        volume = Decimal(1)
    outcome = _valued(metric, start, end, estimate, volume, convert, level)
    reason = _agreement(metric, start) or _interval_reason(estimate, level)
    if reason:
        return replace(outcome, validation_reason=reason)
    return replace(
        outcome,
        validated=True,
        validation_reason=f"{_agreed_in_advance(metric)} and the {_pct(level)} interval "
        f"{_interval(estimate)} excludes zero",
    )


def _group(row: Observation) -> stats.Group:
    """The observation as a group; from a sum and a sum of squares, its mean and sd in exact
    decimals (the difference of two large squares loses every digit in binary floats)."""
    n, mean, sd = row.n, row.mean, row.sd
    key = (row.metric, row.group, row.phase, row.period_start, row.period_end)
    if mean is None:  # from sum and sum of squares, which a file gives with n
        assert n is not None and row.sum is not None
        with localcontext() as exact:
            exact.prec = 80
            total = row.sum
            mean = float(total / n)
            if sd is None and row.sum_sq is not None and n > 1:
                squares = max(row.sum_sq - total * total / n, Decimal(0))
                sd = float((squares / (n - 1)).sqrt())
    return stats.Group(n, mean, sd, key)


def _periods(found: Mapping[tuple[date, date], Observation]) -> str:
    return ", ".join(f"{s} to {e}" for s, e in sorted(found))


def _valued(
    metric: MetricSpec,
    start: date,
    end: date,
    estimate: stats.Estimate,
    volume: Decimal | None,
    convert: Convert,
    level: float = 0.95,
) -> PeriodOutcome:
    outcome = PeriodOutcome(
        start,
        end,
        estimate.effect,
        estimate.low,
        estimate.high,
        estimate.std_error,
        volume,
        estimate=estimate,
    )
    if volume is None or metric.value_per_unit is None or metric.currency is None:
        return outcome
    per_unit = volume * metric.value_per_unit * convert(metric.currency, start.replace(day=1))
    valued = replace(
        outcome, value=money(Decimal(repr(estimate.effect)) * per_unit), per_unit=per_unit
    )
    interval = value_interval([valued], level)
    return replace(valued, value_low=interval.low, value_high=interval.high)


def _agreement(metric: MetricSpec, start: date) -> str | None:
    """Why the method does not count as agreed in advance for a period, if it does not: what
    counts is when the ledger recorded the agreement, whatever date the sign-off says."""
    if metric.agreed_at is None:
        return "the attribution method has not been agreed by finance"
    recorded = _recorded_on(metric)
    if recorded >= start:
        said = (
            "" if metric.agreed_at == recorded else f" (the sign-off is dated {metric.agreed_at})"
        )
        return (
            f"the method's agreement was recorded on {recorded}{said}, once the measurement "
            f"period had begun on {start}: it was not agreed in advance"
        )
    return None


def _agreed_in_advance(metric: MetricSpec) -> str:
    """How the report says that the method was agreed in advance."""
    recorded = _recorded_on(metric)
    if metric.agreed_at == recorded:
        return f"method agreed in advance (recorded on {recorded})"
    return f"method agreed in advance (recorded on {recorded}, signed on {metric.agreed_at})"


def _recorded_on(metric: MetricSpec) -> date:
    recorded = metric.agreement_recorded
    assert metric.agreed_at is not None
    return metric.agreed_at if recorded is None else recorded.date()


def _interval_reason(estimate: stats.Estimate, level: float) -> str | None:
    if not estimate.has_interval:
        return f"{estimate.no_interval or 'there is no interval'}: it cannot be validated"
    assert estimate.low is not None and estimate.high is not None
    if estimate.low > 0:
        return None
    if estimate.high < 0:
        return (
            f"the {_pct(level)} interval {_interval(estimate)} lies below zero: the metric "
            "moved the wrong way"
        )
    return f"the {_pct(level)} interval {_interval(estimate)} includes zero"


def _interval(estimate: stats.Estimate) -> str:
    assert estimate.low is not None and estimate.high is not None
    return f"[{significant(estimate.low)}, {significant(estimate.high)}]"


def _pct(level: float) -> str:
    return f"{level * 100:g} %"


def _span(period: PeriodOutcome) -> str:
    return f"{period.period_start} to {period.period_end}"

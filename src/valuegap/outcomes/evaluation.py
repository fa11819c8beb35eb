"""A success metric's outcome per measurement period: effect, interval, value, validated.

A measurement period is one of the metric's ``after`` observations (for ``direct``, one of its
outcome counts). Its ``before`` figure is the same group's latest ``before`` observation that
ended by the period's start, or else the metric's declared baseline (a figure without spread).
The value is effect x volume x value per unit, converted to the reporting currency; volume is
the after (treatment) row's, and 1 when the metric declares no volume basis.

A period is **validated** when the method was agreed by finance on or before the day the period
began, and the interval excludes zero in the intended direction (for ``direct``: the counts
name their system of record). Anything else says why not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.outcomes import attribution as stats
from valuegap.outcomes.finance import money
from valuegap.outcomes.periods import Window
from valuegap.portfolio.model import MetricSpec

Convert = Callable[[str, date], Decimal]  # (currency, month) -> rate into the reporting currency


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class MetricOutcome:
    metric: MetricSpec
    periods: list[PeriodOutcome] = field(default_factory=list)
    captured_share: Decimal | None = None  # applied to the value of the saved hours

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

    def total(self, name: str) -> Decimal | None:
        """value, value_low or value_high summed over the periods (none if nothing valued)."""
        found = [getattr(p, name) for p in self.periods if p.value is not None]
        if not found:
            return None
        return sum((v if v is not None else Decimal(0) for v in found), Decimal(0))


def evaluate(
    metric: MetricSpec,
    observations: Sequence[Mapping[str, Any]],
    counts: Sequence[Mapping[str, Any]],
    *,
    level: float,
    convert: Convert,
    window: Window,
) -> MetricOutcome:
    """The metric's outcome in each measurement period beginning in ``window``."""
    if metric.method is None:
        return MetricOutcome(metric)
    if metric.method == "direct":
        periods = [_direct(metric, c, convert) for c in counts if window.holds(c["period_start"])]
    else:
        after = sorted({(o["period_start"], o["period_end"]) for o in observations
                        if o["phase"] == "after"})  # fmt: skip
        periods = [
            _measured(metric, observations, s, e, level, convert)
            for s, e in after
            if window.holds(s)
        ]
    return MetricOutcome(metric, periods)


def with_captured_share(outcome: MetricOutcome, share: Decimal | None) -> MetricOutcome:
    """Only captured hours are realised value: scale the value of the metric that measures
    the saved hours by the captured share."""
    if share is None:
        return outcome

    def scale(value: Decimal | None) -> Decimal | None:
        return None if value is None else money(value * share)

    scaled = [
        replace(
            p, value=scale(p.value), value_low=scale(p.value_low), value_high=scale(p.value_high)
        )
        for p in outcome.periods
    ]
    return replace(outcome, periods=scaled, captured_share=share)


def _direct(metric: MetricSpec, count: Mapping[str, Any], convert: Convert) -> PeriodOutcome:
    start, n = count["period_start"], int(count["count"])
    estimate = stats.direct(n)
    outcome = _valued(metric, start, count["period_end"], estimate, Decimal(1), convert)
    agreed = _agreement(metric, start)
    if agreed:
        return replace(outcome, validation_reason=agreed)
    if not count.get("source"):
        return replace(outcome, validation_reason="the outcome counts name no system of record")
    if n == 0:
        return replace(outcome, validation_reason="no successful outcomes were counted")
    return replace(
        outcome,
        validated=True,
        validation_reason=f"{n:,} successful outcomes counted in {count['source']}; "
        + _agreed_in_advance(metric),
    )


def _measured(
    metric: MetricSpec,
    observations: Sequence[Mapping[str, Any]],
    start: date,
    end: date,
    level: float,
    convert: Convert,
) -> PeriodOutcome:
    sign = stats.direction_sign(metric.direction)

    def after(group: str) -> Mapping[str, Any] | None:
        return next((o for o in observations if o["phase"] == "after" and o["group"] == group
                     and (o["period_start"], o["period_end"]) == (start, end)), None)  # fmt: skip

    def before(group: str) -> Mapping[str, Any] | None:
        found = [o for o in observations if o["phase"] == "before" and o["group"] == group
                 and o["period_end"] <= start]  # fmt: skip
        return max(found, key=lambda o: o["period_end"]) if found else None

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
        rows = (after("treatment"), before("treatment"), after("control"), before("control"))
        if any(r is None for r in rows):
            return replace(empty, validation_reason="a difference-in-differences needs treatment "
                           "and control observations, each before and after")  # fmt: skip
        ta, tb, ca, cb = (_group(r) for r in rows if r is not None)
        estimate = stats.diff_in_diff(ta, tb, ca, cb, sign, level)
        volume_row = rows[0] or {}
    volume = volume_row.get("volume")
    if volume is None and metric.volume_basis is None:
        volume = Decimal(1)
    outcome = _valued(metric, start, end, estimate, volume, convert)
    reason = _agreement(metric, start) or _interval_reason(estimate, level)
    if reason:
        return replace(outcome, validation_reason=reason)
    return replace(
        outcome,
        validated=True,
        validation_reason=f"{_agreed_in_advance(metric)} and the {_pct(level)} interval "
        f"{_interval(estimate)} excludes zero",
    )


def _group(row: Mapping[str, Any]) -> stats.Group:
    n, mean, sd = row["n"], row["mean"], row["sd"]
    if mean is None:  # from sum and sum of squares
        mean = row["sum"] / n
        if sd is None and row["sum_sq"] is not None and n > 1:
            sd = math.sqrt(max(row["sum_sq"] - row["sum"] ** 2 / n, 0.0) / (n - 1))
    return stats.Group(n, float(mean), None if sd is None else float(sd))


def _valued(
    metric: MetricSpec,
    start: date,
    end: date,
    estimate: stats.Estimate,
    volume: Decimal | None,
    convert: Convert,
) -> PeriodOutcome:
    outcome = PeriodOutcome(
        start, end, estimate.effect, estimate.low, estimate.high, estimate.std_error, volume
    )
    if volume is None or metric.value_per_unit is None or metric.currency is None:
        return outcome
    per_unit = volume * metric.value_per_unit * convert(metric.currency, start.replace(day=1))

    def worth(effect: float | None) -> Decimal | None:
        return None if effect is None else money(Decimal(repr(effect)) * per_unit)

    return replace(
        outcome,
        value=worth(estimate.effect),
        value_low=worth(estimate.low),
        value_high=worth(estimate.high),
    )


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
        return (
            "no spread was measured (give n and sd, or sum and sum_sq), so there is no "
            "confidence interval"
        )
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
    return f"[{estimate.low:,.4g}, {estimate.high:,.4g}]"


def _pct(level: float) -> str:
    return f"{level * 100:g} %"


def _span(period: PeriodOutcome) -> str:
    return f"{period.period_start} to {period.period_end}"

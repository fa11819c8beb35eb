"""Attribution statistics (PRODUCT.md section 2): an effect with its confidence interval.

Every method works on aggregates only, the groups' size, mean and standard deviation:

- before/after: effect = (after - before) x s, standard error sqrt(sd_a^2/n_a + sd_b^2/n_b);
  against a baseline known without spread (the metric's declared baseline) only the after
  group's sd_a^2/n_a counts;
- A/B test: effect = (treatment - control) x s, Welch's standard error as above;
- difference-in-differences: effect = ((T_after - T_before) - (C_after - C_before)) x s,
  standard error sqrt of the four groups' sd^2/n summed;

where s is +1 when the metric should increase and -1 when it should decrease, so that a
positive effect is always an improvement. The interval is effect +/- t x standard error, with
t the Student quantile at the Welch-Satterthwaite degrees of freedom
(sum of v_i)^2 / sum(v_i^2 / (n_i - 1)), v_i = sd_i^2 / n_i.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """A group's aggregate: size, mean and standard deviation (None when not measured)."""

    n: int | None
    mean: float
    sd: float | None = None

    @property
    def variance_of_mean(self) -> float | None:
        if self.n is None or self.sd is None:
            return None
        return self.sd**2 / self.n


@dataclass(frozen=True)
class Estimate:
    effect: float
    std_error: float | None = None
    dof: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def direction_sign(direction: str) -> int:
    return 1 if direction == "increase" else -1


def before_after(after: Group, before: Group, sign: int, level: float) -> Estimate:
    return _estimate((after.mean - before.mean) * sign, [after, before], level)


def against_baseline(after: Group, baseline: float, sign: int, level: float) -> Estimate:
    """Before/after where the before figure is a declared baseline, known without spread."""
    return _estimate((after.mean - baseline) * sign, [after], level)


def ab_test(treatment: Group, control: Group, sign: int, level: float) -> Estimate:
    return _estimate((treatment.mean - control.mean) * sign, [treatment, control], level)


def diff_in_diff(
    treated_after: Group,
    treated_before: Group,
    control_after: Group,
    control_before: Group,
    sign: int,
    level: float,
) -> Estimate:
    change = (treated_after.mean - treated_before.mean) - (control_after.mean - control_before.mean)
    groups = [treated_after, treated_before, control_after, control_before]
    return _estimate(change * sign, groups, level)


def direct(count: int) -> Estimate:
    """Counted outcomes from a system of record: exact, so the interval is the count itself."""
    return Estimate(float(count), 0.0, None, float(count), float(count))


def _estimate(effect: float, groups: list[Group], level: float) -> Estimate:
    variances = [g.variance_of_mean for g in groups]
    if any(v is None for v in variances) or any((g.n or 0) < 2 for g in groups):
        return Estimate(effect)  # no spread measured: a point estimate only
    parts = [v for v in variances if v is not None]
    variance = sum(parts)
    std_error = math.sqrt(variance)
    if variance == 0:
        return Estimate(effect, 0.0, None, effect, effect)
    dof = variance**2 / sum(v**2 / ((g.n or 0) - 1) for v, g in zip(parts, groups, strict=True))
    half = t_quantile(1 - (1 - level) / 2, dof) * std_error
    return Estimate(effect, std_error, dof, effect - half, effect + half)


def t_quantile(probability: float, dof: float) -> float:
    from scipy import stats  # imported here: scipy takes a while to load

    return float(stats.t.ppf(probability, dof))

"""Attribution statistics (PRODUCT.md section 2): an effect with its confidence interval.

Every method works on aggregates only, the groups' size, mean and standard deviation:

- before/after: effect = (after - before) x s, standard error sqrt(sd_a^2/n_a + sd_b^2/n_b);
  against a baseline known without spread (the metric's declared baseline) only the after
  group's sd_a^2/n_a counts;
- A/B test: effect = (treatment - control) x s, Welch's standard error as above;
- difference-in-differences: effect = ((T_after - T_before) - (C_after - C_before)) x s,
  standard error sqrt of the four groups' sd^2/n summed (the four-group, HC2, form);

where s is +1 when the metric should increase and -1 when it should decrease, so that a
positive effect is always an improvement. The interval is effect +/- t x standard error, with
t the two-sided Student quantile at the Welch-Satterthwaite degrees of freedom
(sum of v_i)^2 / sum(v_i^2 / (n_i - 1)), v_i = c_i^2 sd_i^2 / n_i.

An effect is a linear combination of its groups' means, sum of c_i x mean_i (c_i = +-s), and
so is a total of several effects weighted by their value per unit: the total's variance is
sum over the distinct groups of (its summed coefficient)^2 x sd^2 / n. Two periods that share
a baseline group are so correlated exactly as they should be (the shared group's coefficients
add up before they are squared), and the total's interval never depends on how the periods
are sliced. An interval needs every group's n (at least 2) and sd, and a variance above zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

from valuegap.outcomes import student_t
from valuegap.records import record


@record
class Group:
    """A group's aggregate: size, mean and standard deviation (None when not measured), and
    which observation it is (``key``): effects that share a group are correlated."""

    n: int | None
    mean: float
    sd: float | None = None
    key: Hashable = None

    @property
    def variance_of_mean(self) -> float | None:
        if self.n is None or self.sd is None:
            return None
        return self.sd**2 / self.n


# An effect as sum of coefficient x group mean (plus a constant, such as a declared baseline).
Terms = tuple[tuple[Group, float], ...]


@record
class Estimate:
    effect: float
    std_error: float | None = None
    dof: float | None = None
    low: float | None = None
    high: float | None = None
    terms: Terms = ()
    no_interval: str | None = None  # why there is no interval, when there is none

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def direction_sign(direction: str) -> int:
    return 1 if direction == "increase" else -1


def before_after(after: Group, before: Group, sign: int, level: float) -> Estimate:
    return _estimate((after.mean - before.mean) * sign, ((after, sign), (before, -sign)), level)


def against_baseline(after: Group, baseline: float, sign: int, level: float) -> Estimate:
    """Before/after where the before figure is a declared baseline, known without spread."""
    return _estimate((after.mean - baseline) * sign, ((after, sign),), level)


def ab_test(treatment: Group, control: Group, sign: int, level: float) -> Estimate:
    terms = ((treatment, sign), (control, -sign))
    return _estimate((treatment.mean - control.mean) * sign, terms, level)


def diff_in_diff(
    treated_after: Group,
    treated_before: Group,
    control_after: Group,
    control_before: Group,
    sign: int,
    level: float,
) -> Estimate:
    change = (treated_after.mean - treated_before.mean) - (control_after.mean - control_before.mean)
    terms = (
        (treated_after, sign),
        (treated_before, -sign),
        (control_after, -sign),
        (control_before, sign),
    )
    return _estimate(change * sign, terms, level)


def direct(effect: float) -> Estimate:
    """Counted outcomes from a system of record (above a declared baseline, if any): exact,
    so the interval is the effect itself."""
    return Estimate(effect, 0.0, None, effect, effect)


def _estimate(effect: float, terms: Terms, level: float) -> Estimate:
    spread = combined_spread([(1.0, terms)], level)
    if isinstance(spread, str):
        return Estimate(effect, terms=terms, no_interval=spread)
    std_error, dof, half = spread
    return Estimate(effect, std_error, dof, effect - half, effect + half, terms)


def combined_spread(
    parts: Sequence[tuple[float, Terms]], level: float
) -> tuple[float, float | None, float] | str:
    """The standard error, degrees of freedom and half-width of the interval of the sum of
    ``parts`` (each weight x its terms' effect), or why there is none. Parts without terms
    are exact (counted outcomes)."""
    coefficients: dict[Hashable, float] = defaultdict(float)
    groups: dict[Hashable, Group] = {}
    for weight, terms in parts:
        for group, coefficient in terms:
            key = group.key if group.key is not None else id(group)
            coefficients[key] += weight * coefficient
            groups[key] = group
    if not groups:
        return 0.0, None, 0.0
    for group in groups.values():
        if group.n is None or group.sd is None:
            return "no spread was measured (give n and sd, or sum and sum_sq)"
        if group.n < 2:
            return "a group has fewer than two measured, so its spread cannot be estimated"
    variances = {k: coefficients[k] ** 2 * (groups[k].variance_of_mean or 0.0) for k in groups}
    variance = sum(variances.values())
    if variance <= 0:
        return (
            "the observations have no spread (sd 0), so the variance cannot be estimated and "
            "there is no interval"
        )
    denominator = sum(v**2 / ((groups[k].n or 0) - 1) for k, v in variances.items())
    dof = variance**2 / denominator
    std_error = math.sqrt(variance)
    return std_error, dof, t_quantile(1 - (1 - level) / 2, dof) * std_error


def t_quantile(probability: float, dof: float) -> float:
    return student_t.quantile(probability, dof)


def two_sided_p(t: float, dof: float) -> float:
    return 2 * student_t.upper_tail(abs(t), dof)


def holm(p_values: Sequence[float | None], alpha: float) -> list[bool]:
    """Holm's step-down adjustment: which of the hypotheses are rejected at family-wise
    ``alpha`` (a missing p-value is never rejected, and counts in the family)."""
    order = sorted(range(len(p_values)), key=lambda i: (p_values[i] is None, p_values[i] or 0.0))
    rejected = [False] * len(p_values)
    for rank, i in enumerate(order):
        found = p_values[i]
        if found is None or found > alpha / (len(p_values) - rank):
            break
        rejected[i] = True
    return rejected

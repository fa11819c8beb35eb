"""Student's t distribution in plain Python: its upper tail and its quantiles.

scipy has both (``scipy.special.stdtr`` and ``stdtrit``, which ``scipy.stats.t`` calls), and
the tests hold these to its digits; but importing scipy takes longer than everything else a
report does. With ``dof`` degrees of freedom and x = dof / (dof + t^2), y = 1 - x:

    P(T > t)     = I_x(dof/2, 1/2) / 2
    P(0 < T < t) = I_y(1/2, dof/2) / 2

where I is the regularised incomplete beta function, computed from the continued fraction of
DiDonato and Morris (ACM TOMS 708, 1992), which keeps its precision for many degrees of
freedom: below t = 1 the middle (the fraction converges fast there), from t = 1 the tail (so
that a small tail keeps its digits), the other half being 1/2 less it. A quantile is found by
Newton's method from the Cornish-Fisher expansion (Abramowitz and Stegun 26.7.5).
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

_EPSILON = 2.0**-52
_TINY = 1e-300


def upper_tail(t: float, dof: float) -> float:
    """P(T > t)."""
    if t < 0:
        return 1.0 - upper_tail(-t, dof)
    return _halves(t, dof)[0]


@functools.lru_cache(maxsize=4096)  # a report asks for the same few, period after period
def quantile(probability: float, dof: float) -> float:
    """The t with P(T <= t) = ``probability``."""
    if probability < 0.5:
        return -quantile(1.0 - probability, dof)
    if probability >= 1.0:
        return math.inf
    # Both exact in floating point for a probability of 1/2 or more.
    above, within = 1.0 - probability, probability - 0.5
    low, high = 0.0, math.inf
    t = _cornish_fisher(probability, dof)
    for _ in range(100):
        upper, middle = _halves(t, dof)
        excess = upper - above if upper < middle else within - middle  # P(T > t) - above
        if excess > 0:
            low = t
        else:
            high = t
        step = t + excess / _density(t, dof)
        if not low < step < high:  # Newton left the bracket: halve it (or widen it)
            step = (low + high) / 2 if high < math.inf else 2 * t
        if abs(step - t) <= 2 * _EPSILON * step:
            return step
        t = step
    return t


def _halves(t: float, dof: float) -> tuple[float, float]:
    """(P(T > t), P(0 < T < t)) for t >= 0: one computed, the other 1/2 less it."""
    if t == 0:
        return 0.5, 0.0
    if math.isinf(t):
        return 0.0, 0.5
    t2 = t * t
    x, y = dof / (dof + t2), t2 / (dof + t2)
    log_x, log_y = -math.log1p(t2 / dof), -math.log1p(dof / t2)
    log_beta = _log_beta_half(dof / 2)  # B(a, b) = B(b, a)
    if t < 1:
        middle = _incomplete_beta(0.5, dof / 2, y, x, log_y, log_x, log_beta) / 2
        return 0.5 - middle, middle
    upper = _incomplete_beta(dof / 2, 0.5, x, y, log_x, log_y, log_beta) / 2
    return upper, 0.5 - upper


def _density(t: float, dof: float) -> float:
    log_density = -(dof + 1) / 2 * math.log1p(t * t / dof) - _log_beta_half(dof / 2)
    return math.exp(log_density) / math.sqrt(dof)


def _incomplete_beta(
    a: float, b: float, x: float, y: float, log_x: float, log_y: float, log_beta: float
) -> float:
    """I_x(a, b), given y = 1 - x, their logarithms and ln B(a, b), by the continued fraction
    BFRAC of TOMS 708, evaluated by Lentz's method."""
    front = math.exp(a * log_x + b * log_y - log_beta)
    fraction = a * (a * y - b * x + 1) / (a + 1) or _TINY
    c, d = fraction, 0.0
    for m in range(1, 100_000):
        alpha = (a + m - 1) * (a + b + m - 1) * m * (b - m) * x * x / (a + 2 * m - 1) ** 2
        beta = (
            m
            + m * (b - m) * x / (a + 2 * m - 1)
            + (a + m) * (a * y - b * x + 1 + m * (2 - x)) / (a + 2 * m + 1)
        )
        d = 1 / (beta + alpha * d or _TINY)
        c = beta + alpha / c or _TINY
        fraction *= c * d
        if abs(c * d - 1) <= _EPSILON:
            return front / fraction
    raise ArithmeticError(f"the incomplete beta function did not converge at {a}, {b}, {x}")


def _log_beta_half(a: float) -> float:
    """ln B(a, 1/2) = ln Gamma(1/2) - ln(Gamma(a + 1/2) / Gamma(a))."""
    if a < 20:
        ratio = math.lgamma(a + 0.5) - math.lgamma(a)
    else:  # the difference of two large logarithms would lose digits: its asymptotic series
        r = 1 / (a * a)
        series = 1 / 8 - r * (1 / 192 - r * (1 / 640 - r * (17 / 14336 - r * 31 / 18432)))
        ratio = 0.5 * math.log(a) - series / a
    return 0.5 * math.log(math.pi) - ratio


def _cornish_fisher(probability: float, dof: float) -> float:
    """The quantile's expansion in 1/dof around the normal one: close for many degrees of
    freedom, a start for Newton's method with few."""
    z = NormalDist().inv_cdf(probability)
    z2 = z * z
    g1 = z * (z2 + 1) / 4
    g2 = z * ((5 * z2 + 16) * z2 + 3) / 96
    g3 = z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384
    g4 = z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160
    return z + (g1 + (g2 + (g3 + g4 / dof) / dof) / dof) / dof

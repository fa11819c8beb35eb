"""The attribution statistics against hand-worked figures, scipy and a published study."""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal

import pytest
from scipy import stats as scipy_stats

from valuegap.outcomes import attribution as a
from valuegap.outcomes.finance import Payback, cost_per_outcome, coverage, payback, roi


def test_roi_of_the_seed_example() -> None:
    # PRODUCT.md: value 500 k and cost 300 k give ROI 66.7 %: (500 - 300) / 300 = 0.6667.
    assert roi(Decimal(500_000), Decimal(300_000)) == 0.6667
    assert roi(Decimal(100), Decimal(0)) is None


def test_before_after_review_hours_from_40_to_8_a_week() -> None:
    # 40 review hours a week before, 8 after, for a metric that should decrease: 32 hours a
    # week saved. Over a 13-week quarter at 62 USD an hour: 32 x 13 x 62 = 25,792 USD.
    before, after = a.Group(12, 40.0, 4.0), a.Group(13, 8.0, 2.0)
    estimate = a.before_after(after, before, a.direction_sign("decrease"), 0.95)
    assert estimate.effect == 32.0
    # Standard error by hand: sqrt(4^2/12 + 2^2/13) = sqrt(1.33333 + 0.30769) = 1.28102
    assert estimate.std_error == pytest.approx(1.281025, abs=1e-6)
    # Welch-Satterthwaite: 1.64103^2 / (1.33333^2/11 + 0.30769^2/12) = 2.69297 / 0.16951
    assert estimate.dof == pytest.approx(15.8872, abs=1e-4)
    assert estimate.low is not None and estimate.low > 0
    assert Decimal(repr(estimate.effect)) * 13 * Decimal(62) == Decimal("25792.0")


def test_ab_interval_equals_scipys_welch_interval() -> None:
    rng = random.Random(7)
    treatment = [rng.gauss(12.0, 3.0) for _ in range(40)]
    control = [rng.gauss(10.5, 4.5) for _ in range(55)]

    def group(xs: list[float]) -> a.Group:
        mean = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
        return a.Group(len(xs), mean, sd)

    for level in (0.95, 0.9, 0.99):
        ours = a.ab_test(group(treatment), group(control), 1, level)
        theirs = scipy_stats.ttest_ind(treatment, control, equal_var=False)
        interval = theirs.confidence_interval(confidence_level=level)
        assert ours.low == pytest.approx(interval.low, abs=1e-9)
        assert ours.high == pytest.approx(interval.high, abs=1e-9)


def test_t_quantiles_and_p_values_are_scipys_to_13_digits() -> None:
    # valuegap computes them in plain Python (outcomes/student_t.py), where it called
    # scipy.stats. Where the two differ at all, scipy's is the less exact (0.8 at 2.7 degrees
    # of freedom: 7e-14 from the true quantile, against 6e-16); close to t = 0 it loses more
    # digits, and is not compared there.
    rng = random.Random(16)
    dofs = [1.0, 1.5, 2.0, 2.7, 4.2, 6.44, 15.8872, 19.9, 20.1, 57.3, 472.0, 1e3, 39868.03]
    dofs += [159472.12, 1e6, 1e7, *(rng.uniform(1.0, 50.0) for _ in range(40))]
    dofs += [rng.uniform(50.0, 5000.0) for _ in range(40)]
    for dof in dofs:
        for level in (0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999):
            probability = 1 - (1 - level) / 2
            expected = float(scipy_stats.t.ppf(probability, dof))
            assert a.t_quantile(probability, dof) == pytest.approx(expected, rel=1e-13)
        for t in (0.01, 0.3, 0.99, 1.0, 1.96, 2.5, 4.0, 10.0, 20.0, -2.2):
            expected = float(2 * scipy_stats.t.sf(abs(t), dof))
            assert a.two_sided_p(t, dof) == pytest.approx(expected, rel=1e-13)


def test_t_quantiles_and_p_values_where_they_have_a_closed_form() -> None:
    # One degree of freedom: the Cauchy distribution; two: t = (2p - 1) / sqrt(2p(1 - p)).
    for probability in (0.5000001, 0.55, 0.75, 0.975, 0.9995):
        cauchy = 1 / math.tan(math.pi * (1 - probability))  # tan(pi (p - 1/2)), well conditioned
        assert a.t_quantile(probability, 1) == pytest.approx(cauchy, rel=1e-15)
        two = (2 * probability - 1) / math.sqrt(2 * probability * (1 - probability))
        assert a.t_quantile(probability, 2) == pytest.approx(two, rel=1e-15)
        assert a.t_quantile(1 - probability, 2) == pytest.approx(-two, rel=1e-15)
    for t in (1e-9, 0.001, 0.5, 1.0, 3.0, 1e3):
        assert a.two_sided_p(t, 1) == pytest.approx(1 - 2 * math.atan(t) / math.pi, rel=1e-14)
        assert a.two_sided_p(t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-14)
    assert a.t_quantile(0.5, 7.5) == 0.0 and a.two_sided_p(0.0, 7.5) == 1.0


def test_diff_in_diff_reproduces_card_and_krueger() -> None:
    # Card, D. and Krueger, A. B. (1994), "Minimum Wages and Employment: A Case Study of the
    # Fast-Food Industry in New Jersey and Pennsylvania", American Economic Review 84(4),
    # Table 3: mean FTE employment per store (standard error), February and November 1992.
    # New Jersey (treated) 20.44 (0.51) -> 21.03 (0.52); Pennsylvania 23.33 (1.35) -> 21.17
    # (0.94). Published difference-in-differences: 2.76 FTE (from unrounded means).
    def group(n: int, mean: float, se: float) -> a.Group:
        return a.Group(n, mean, se * math.sqrt(n))  # sd from the published standard error

    estimate = a.diff_in_diff(
        group(321, 21.03, 0.52), group(321, 20.44, 0.51),
        group(78, 21.17, 0.94), group(78, 23.33, 1.35), a.direction_sign("increase"), 0.95,
    )  # fmt: skip
    assert estimate.effect == pytest.approx(2.76, abs=0.011)  # 2.75 from the rounded means
    # From the four groups' variances: sqrt(0.51^2 + 0.52^2 + 1.35^2 + 0.94^2) = 1.7991. (The
    # paper's 1.36 uses each store's own change, which needs store-level data.)
    assert estimate.std_error == pytest.approx(1.7991, abs=1e-4)


def test_no_spread_gives_a_point_without_an_interval() -> None:
    estimate = a.before_after(a.Group(None, 8.0), a.Group(None, 40.0), -1, 0.95)
    assert (estimate.effect, estimate.low, estimate.high) == (32.0, None, None)


def test_against_a_declared_baseline_is_a_one_sample_interval() -> None:
    after = a.Group(10, 8.0, 2.0)
    estimate = a.against_baseline(after, 40.0, -1, 0.95)
    # 32 +/- t(0.975, 9) x 2 / sqrt(10) = 32 +/- 2.262157 x 0.632456 = [30.5693, 33.4307]
    assert estimate.low == pytest.approx(30.56929, abs=1e-5)
    assert estimate.high == pytest.approx(33.43071, abs=1e-5)


def test_payback_starts_with_cost_and_must_last() -> None:
    # 10,000 of value in November 2024, before any cost; then 5,000 a month of cost from
    # December: the value before the first month with cost does not count, so the
    # initiative never pays back (it did "in January" when November's value counted).
    cost = {date(2024 + (11 + m) // 12, (11 + m) % 12 + 1, 1): Decimal(5000) for m in range(12)}
    assert payback({date(2024, 11, 1): Decimal(10_000)}, cost) == Payback()
    # Value 6,000 in December and nothing after: 6,000 >= 5,000 in December, 6,000 < 10,000
    # in January: a crossing that did not last.
    assert payback({date(2024, 12, 1): Decimal(6000)}, cost) == Payback(None, date(2024, 12, 1))
    # 12,000 a month from February: cumulative value 6,000, 6,000, 18,000, 30,000 against cost
    # 5,000, 10,000, 15,000, 20,000: paid back from February, and it lasts; December lapsed.
    value = {date(2024, 12, 1): Decimal(6000)} | {
        date(2025, m, 1): Decimal(12_000) for m in range(2, 12)
    }
    assert payback(value, cost) == Payback(date(2025, 2, 1), date(2024, 12, 1))


def test_payback_cost_per_outcome_and_coverage_by_hand() -> None:
    months = [date(2026, m, 1) for m in (1, 2, 3, 4)]
    cost = dict(zip(months, [Decimal(100)] * 4, strict=True))
    value = dict(zip(months, [Decimal(0), Decimal(50), Decimal(150), Decimal(250)], strict=True))
    # cumulative cost 100, 200, 300, 400; value 0, 50, 200, 450: paid back in April
    assert payback(value, cost) == Payback(date(2026, 4, 1))
    assert payback({}, cost) == Payback()
    assert cost_per_outcome(Decimal(1000), 3) == Decimal("333.33")
    assert cost_per_outcome(Decimal(1000), 0) is None
    # 300 of a validated initiative in 1,200 of cost; a unit's overhead in credit counts 0.
    costs = {"tickets": Decimal(300), "other": Decimal(900), "(unit overhead)": Decimal(-50)}
    assert coverage(costs, {"tickets"}) == 0.25


def test_a_trend_is_the_least_squares_slope_over_all_months() -> None:
    from valuegap.outcomes.finance import slope, trend

    # x = 0, 1, 2, 3; y = 10, 12, 11, 15: slope = sum((x - 1.5)(y - 12)) / sum((x - 1.5)^2)
    # = (3 + 0 + (-0.5) + 4.5) / 5 = 1.4
    assert slope([10, 12, 11, 15]) == 1.4
    assert trend([10, 12, 11, 15]) == "rising"
    # first and last alone would say flat; all months say falling
    assert trend([10, 4, 2, 10]) == "falling"  # slope -0.2
    assert slope([3, None, 1]) == -1.0
    assert slope([5]) is None

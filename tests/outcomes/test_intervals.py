"""Intervals that mean what they say: value_low <= value <= value_high everywhere, the interval
of a total from the periods' variances (shared groups' covariance included), no interval
without an estimable variance, diff-in-diff on common periods, exact sums of squares."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from valuegap import Ledger
from valuegap.model.portfolio import MetricSpec, Portfolio
from valuegap.outcomes.evaluation import evaluate, value_interval
from valuegap.outcomes.periods import Window, parse_period
from valuegap.outcomes.results import MetricResult
from valuegap.store.outcomes import Observation

from ..conftest import SteppingClock

T975 = {18: float(scipy_stats.t.ppf(0.975, 18))}


@pytest.fixture
def clock() -> SteppingClock:
    # The portfolio and its agreement are recorded on 1 June 2024, before every period here.
    return SteppingClock(datetime(2024, 6, 1, 9, 0))


def _measured(ledger: Ledger, tmp_path: Path, method: str, rows: list[str], **metric: Any) -> None:
    ledger.portfolio.add_initiative({
        "id": "i", "name": "I", "kind": "use_case", "business_unit": "ops",
        "metrics": [{"id": "m", "name": "M", "unit": "u", "direction": "increase",
                     "value_per_unit": metric.pop("value_per_unit", 1), "currency": "USD",
                     "method": method, **metric}],
    })  # fmt: skip
    ledger.portfolio.agree_metric("m", by="Fin")
    path = tmp_path / "observations.csv"
    path.write_text("metric,period_start,period_end,group,phase,n,mean,sd,sum,sum_sq\n"
                    + "\n".join(f"m,{r}" for r in rows) + "\n")  # fmt: skip
    ledger.outcomes.ingest_measures("observations", path)


def _counted(ledger: Ledger, tmp_path: Path, rows: list[str], **metric: Any) -> None:
    """A direct metric ``m`` (10 USD a ticket, agreed) and its counts from Ticketing."""
    ledger.portfolio.add_initiative({
        "id": "i", "name": "I", "kind": "agent", "business_unit": "ops",
        "metrics": [{"id": "m", "name": "Resolved", "unit": "tickets", "direction": "increase",
                     "value_per_unit": 10, "currency": "USD", "method": "direct", **metric}],
    })  # fmt: skip
    ledger.portfolio.agree_metric("m", by="Fin")
    path = tmp_path / "counts.csv"
    path.write_text("initiative,metric,period_start,period_end,count,source\n"
                    + "".join(f"i,m,{r},Ticketing\n" for r in rows))  # fmt: skip
    ledger.outcomes.ingest_measures("outcomes", path)


def _metric(ledger: Ledger, window: str) -> MetricResult:
    [metric] = ledger.outcomes.initiative_report("i", parse_period(window)).metrics
    return metric


def test_a_period_without_an_interval_leaves_the_total_without_one(
    ledger: Ledger, tmp_path: Path
) -> None:
    _measured(ledger, tmp_path, "before_after", [
        "2024-06-01,2024-07-01,all,before,50,10,2,,",
        "2024-07-01,2024-08-01,all,after,50,12,2,,",
        "2024-08-01,2024-09-01,all,after,1,4,,,",  # one measured: no spread
    ], value_per_unit=1000)  # fmt: skip
    report = ledger.outcomes.initiative_report("i", parse_period("2024-Q3"))
    # value: (12 - 10) x 1,000 + (4 - 10) x 1,000 = -4,000, and no interval to be had
    assert (report.value, report.value_low, report.value_high) == (-4000, None, None)
    assert report.roi_conservative is None
    assert report.no_interval == (
        "2024-08-01 to 2024-09-01: no spread was measured (give n and sd, or sum and sum_sq)"
    )
    [metric] = report.metrics
    august = metric.periods[1]
    assert (august.value, august.value_low, august.validated) == (-6000, None, False)


def test_the_interval_of_two_periods_sharing_a_baseline(ledger: Ledger, tmp_path: Path) -> None:
    _measured(ledger, tmp_path, "before_after", [
        "2024-06-01,2024-07-01,all,before,10,100,10,,",
        "2024-07-01,2024-08-01,all,after,10,104,10,,",
        "2024-08-01,2024-09-01,all,after,10,104,10,,",
    ])  # fmt: skip
    metric = _metric(ledger, "2024-Q3")
    # By hand: the total 8 = A1 + A2 - 2 B, each mean's variance 10^2 / 10 = 10, so
    # var = 10 + 10 + 2^2 x 10 = 60 (the shared baseline counts twice, squared), and
    # Welch-Satterthwaite dof = 60^2 / ((10^2 + 10^2 + 40^2) / 9) = 18.
    half = T975[18] * math.sqrt(60)  # 16.27
    assert metric.value == 8
    assert metric.value_low == Decimal(8 - half).quantize(Decimal("0.01"))  # -8.27
    assert metric.value_high == Decimal(8 + half).quantize(Decimal("0.01"))
    # not the sum of the periods' lower bounds, 2 x (4 - t x sqrt(20)) = -10.79
    lows = sum(p.value_low for p in metric.periods)
    assert lows == 2 * Decimal(4 - T975[18] * math.sqrt(20)).quantize(Decimal("0.01"))
    assert lows < metric.value_low


def test_no_spread_validates_nothing(ledger: Ledger, tmp_path: Path) -> None:
    _measured(ledger, tmp_path, "ab_test", [
        "2024-07-01,2024-08-01,treatment,after,30,12,0,,",
        "2024-07-01,2024-08-01,control,after,30,10,0,,",
    ])  # fmt: skip
    metric = _metric(ledger, "2024-07")
    assert (metric.effect, metric.effect_low, metric.validated) == (2, None, False)
    assert "no spread (sd 0)" in metric.validation_reason


def test_diff_in_diff_pairs_the_groups_on_a_common_before_period(
    ledger: Ledger, tmp_path: Path
) -> None:
    _measured(ledger, tmp_path, "diff_in_diff", [
        "2024-07-01,2024-10-01,treatment,before,40,10,2,,",
        "2024-07-01,2024-10-01,control,before,40,10,2,,",
        "2024-10-01,2025-01-01,control,before,40,14,2,,",
        "2025-01-01,2025-04-01,treatment,after,40,14,2,,",
        "2025-01-01,2025-04-01,control,after,40,14,2,,",
    ])  # fmt: skip
    metric = _metric(ledger, "2025-Q1")
    # On Q3 2024, both groups' before: (14 - 10) - (14 - 10) = 0 (Q4 mixed in would give 4).
    assert metric.effect == 0
    assert metric.validated is False


def test_diff_in_diff_without_a_common_before_period_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    _measured(ledger, tmp_path, "diff_in_diff", [
        "2024-07-01,2024-10-01,treatment,before,40,10,2,,",
        "2024-10-01,2025-01-01,control,before,40,14,2,,",
        "2025-01-01,2025-04-01,treatment,after,40,14,2,,",
        "2025-01-01,2025-04-01,control,after,40,14,2,,",
    ])  # fmt: skip
    metric = _metric(ledger, "2025-Q1")
    assert metric.effect is None
    assert metric.validation_reason == (
        "2025-01-01 to 2025-04-01: the treatment and control groups have no before period in "
        "common (treatment: 2024-07-01 to 2024-10-01; control: 2024-10-01 to 2025-01-01): a "
        "difference-in-differences compares them on the same periods"
    )


def test_sums_of_squares_are_exact(ledger: Ledger, tmp_path: Path) -> None:
    # 1,000 values, half of them mean + 0.01 and half mean - 0.01: sum = 1,000 x mean and
    # sum_sq = 1,000 x mean^2 + 1,000 x 0.01^2, so sd = 0.01 x sqrt(1,000 / 999).
    def sums(mean: str) -> str:
        m = Decimal(mean)
        return f"{1000 * m},{1000 * m * m + Decimal('0.1')}"

    _measured(ledger, tmp_path, "before_after", [
        f"2024-06-01,2024-07-01,all,before,1000,,,{sums('123456789.4')}",
        f"2024-07-01,2024-08-01,all,after,1000,,,{sums('123456789.5')}",
    ])  # fmt: skip
    metric = _metric(ledger, "2024-07")
    sd = 0.01 * math.sqrt(1000 / 999)
    assert metric.std_error == pytest.approx(math.sqrt(2 * sd**2 / 1000), rel=1e-6)  # 4.47e-4
    assert metric.effect == pytest.approx(0.1, abs=1e-7)
    assert metric.validated is True  # t = 0.1 / 4.47e-4 = 223


# Property: for random observations, value_low <= value <= value_high for every period and
# total, and a two-period total's interval is the one its pooled variances give.

GROUP = st.tuples(st.integers(2, 200), st.floats(-50, 50), st.floats(0.1, 20))  # n, mean, sd


def _row(
    period: tuple[date, date], group: str, phase: str, g: tuple[int, float, float]
) -> Observation:
    return Observation(
        metric="m",
        period_start=period[0],
        period_end=period[1],
        group=group,
        phase=phase,
        n=g[0],
        mean=g[1],
        sd=g[2],
        sum=None,
        sum_sq=None,
        volume=None,
    )


@settings(max_examples=60, deadline=None)
@given(before=GROUP, first=GROUP, second=GROUP, per_unit=st.integers(1, 500))
def test_intervals_hold_and_pool(
    before: tuple[int, float, float],
    first: tuple[int, float, float],
    second: tuple[int, float, float],
    per_unit: int,
) -> None:
    metric = MetricSpec(id="m", name="M", unit="u", direction="increase",
                        value_per_unit=Decimal(per_unit), currency="USD", method="before_after",
                        agreed_by="Fin", agreed_at=date(2024, 1, 1))  # fmt: skip
    july, august = (date(2024, 7, 1), date(2024, 8, 1)), (date(2024, 8, 1), date(2024, 9, 1))
    rows = [_row((date(2024, 6, 1), july[0]), "all", "before", before),
            _row(july, "all", "after", first), _row(august, "all", "after", second)]  # fmt: skip

    def outcome_in(window: Window) -> Any:
        return evaluate(metric, rows, [], level=0.95, convert=lambda c, m: Decimal(1),
                        window=window)  # fmt: skip

    outcome = outcome_in(Window(None, None))
    total = outcome.interval()
    july = outcome_in(Window(date(2024, 7, 1), date(2024, 8, 1))).interval()  # one month
    # two metrics of an initiative: this one and a copy on other groups (independent)
    copy = [replace(r, metric="m2", group="treatment") for r in rows]
    copied = evaluate(metric, copy, [], level=0.95, convert=lambda c, m: Decimal(1),
                      window=Window(None, None))  # fmt: skip
    assert copied.interval().value == total.value
    both = value_interval([*outcome.periods, *copied.periods], 0.95)
    for low, value, high in [(p.value_low, p.value, p.value_high) for p in outcome.periods] + [
        (i.low, i.value, i.high) for i in (total, july, both)
    ]:
        assert low is not None and value is not None and high is not None
        assert low <= value <= high
    # Pooled by hand: total = per_unit x (A1 + A2 - 2 B).
    v = {k: g[2] ** 2 / g[0] for k, g in (("b", before), ("a1", first), ("a2", second))}
    parts = {"b": 4 * v["b"], "a1": v["a1"], "a2": v["a2"]}
    variance = sum(parts.values())
    n = {"b": before[0], "a1": first[0], "a2": second[0]}
    dof = variance**2 / sum(parts[k] ** 2 / (n[k] - 1) for k in parts)
    half = Decimal(repr(float(per_unit * scipy_stats.t.ppf(0.975, dof) * math.sqrt(variance))))
    assert total.value is not None and total.low is not None
    assert abs(total.low - (total.value - half)) <= Decimal("0.01")


def test_direct_counts_what_is_above_a_declared_baseline(ledger: Ledger, tmp_path: Path) -> None:
    baseline = {"value": 50, "period": "2024-H1"}
    _counted(ledger, tmp_path, ["2024-07-01,2024-08-01,80", "2024-08-01,2024-11-01,140"],
             unit="tickets/month", baseline=baseline)  # fmt: skip
    july, autumn = _metric(ledger, "2024").periods
    # July: 80 - 50 = 30 tickets above the baseline, 300 USD; August to October: 140 against
    # 3 x 50 = 150, ten fewer than without the assistant: no improvement, not validated.
    assert (july.effect, july.value, july.validated) == (30, 300, True)
    assert (autumn.effect, autumn.value, autumn.validated) == (-10, -100, False)
    assert autumn.validation_reason == (
        "140 successful outcomes counted in Ticketing, -10 better than the baseline's 150 for "
        "the same length of time: no improvement"
    )


def test_effects_read_as_people_write_them(ledger: Ledger, tmp_path: Path) -> None:
    _measured(ledger, tmp_path, "ab_test", [
        "2024-07-01,2024-08-01,treatment,after,30,40.3,1,,",
        "2024-07-01,2024-08-01,control,after,30,40.2,1,,",
    ])  # fmt: skip
    metric = _metric(ledger, "2024-07")
    assert 40.3 - 40.2 != 0.1
    assert metric.effect == 0.1
    # sqrt(1/30 + 1/30) = 0.2581988897... to 10 significant digits
    assert metric.std_error == 0.2581988897


def test_holm_by_hand() -> None:
    from valuegap.outcomes.attribution import holm

    p_values = [0.01, 0.04, 0.03, 0.005, 0.2]
    # Holm (1979) at 0.05, smallest first: 0.005 <= 0.05/5 and 0.01 <= 0.05/4 are rejected,
    # then 0.03 > 0.05/3 stops it: the rest stand, 0.04 and 0.2 included.
    assert holm(p_values, 0.05) == [True, False, False, True, False]
    assert holm([None, 0.001], 0.05) == [False, True]


def test_one_primary_metric_decides(ledger: Ledger, tmp_path: Path) -> None:
    metric = {"unit": "u", "direction": "increase", "value_per_unit": 1, "currency": "USD",
              "method": "ab_test"}  # fmt: skip
    spec = {"id": "i", "name": "I", "kind": "use_case", "business_unit": "ops",
            "metrics": [{"id": "flat", "name": "Flat", **metric},
                        {"id": "moved", "name": "Moved", **metric}]}  # fmt: skip
    ledger.portfolio.add_initiative(spec)
    for m in ("flat", "moved"):
        ledger.portfolio.agree_metric(m, by="Fin")
    path = tmp_path / "observations.csv"
    path.write_text("metric,period_start,period_end,group,phase,n,mean,sd\n"
                    "flat,2024-07-01,2024-08-01,treatment,after,50,10.1,3\n"
                    "flat,2024-07-01,2024-08-01,control,after,50,10,3\n"
                    "moved,2024-07-01,2024-08-01,treatment,after,50,14,3\n"
                    "moved,2024-07-01,2024-08-01,control,after,50,10,3\n")  # fmt: skip
    ledger.outcomes.ingest_measures("observations", path)
    report = ledger.outcomes.initiative_report("i", parse_period("2024-07"))
    flags = {m.id: (m.primary, m.validated, m.holm_significant) for m in report.metrics}
    # The first metric is primary by default: "moved" is validated (and Holm-significant
    # among two) but never validates the initiative alone.
    assert flags == {"flat": (True, False, False), "moved": (False, True, True)}
    assert report.validated is False
    assert report.validation_reason.startswith("flat (primary): ")
    spec["metrics"][1]["primary"] = True
    ledger.portfolio.apply(Portfolio.model_validate({"initiatives": [spec]}))
    assert ledger.outcomes.initiative_report("i", parse_period("2024-07")).validated is True


def test_value_and_outcomes_fall_in_the_months_they_were_earned(
    ledger: Ledger, tmp_path: Path
) -> None:
    _counted(ledger, tmp_path, ["2024-07-01,2024-10-01,90", "2024-10-01,2024-11-01,40"])
    # A quarter's 90 tickets (900 USD) are 30 a month: August holds 300 USD and 30 tickets,
    # the window that starts in it no more than its part.
    august = ledger.outcomes.initiative_report("i", parse_period("2024-08"))
    assert (august.value, august.outcomes.successful_outcomes) == (300, 30)
    # H2 holds all of it: 900 + 400; its months and its cumulative value agree.
    h2 = ledger.outcomes.initiative_report("i", parse_period("2024-H2"))
    assert h2.value == h2.cumulative_value == 1300
    months = [m.outcomes for m in h2.outcomes.by_month]
    assert months == [30, 30, 30, 40]

"""The J-curve named in advance, worked by hand; its statuses; its invariants."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.forecast.jcurve import (
    STATUSES,
    expected_curve,
    status,
    sum_curves,
)
from valuegap.forecast.ramp import Plan

CENT = Decimal("0.01")


def _plan(investment: str, value: str, midpoint: str = "4", steepness: str = "1") -> Plan:
    return Plan(
        Decimal(investment),
        Decimal(value),
        Decimal(1),
        Decimal(midpoint),
        Decimal(steepness),
        Decimal("0.2"),
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def test_a_business_case_by_hand() -> None:
    # Investment 10,000 a month, 40,000 a month at full adoption, ceiling 1, midpoint 4,
    # steepness 1: adoption(m) = 1 / (1 + e^(4 - m)), with e = 2.718281828459045:
    #   month 1: 1 / (1 + e^3) = 1 / 21.085536923 = 0.0474258732
    #   month 2: 1 / (1 + e^2) = 1 / 8.389056099  = 0.1192029220
    #   month 3: 1 / (1 + e)   = 1 / 3.718281828  = 0.2689414214
    #   month 4: 1 / 2 = 0.5;  month 5: 1 - adoption(3) = 0.7310585786 (symmetric about 4)
    # Net value = 40,000 x adoption - 10,000:
    #   month 1:  1,897.03 - 10,000 = -8,102.97   cumulative  -8,102.97
    #   month 2:  4,768.12 - 10,000 = -5,231.88   cumulative -13,334.85  <- the trough
    #   month 3: 10,757.66 - 10,000 =    757.66   cumulative -12,577.19
    #   month 4: 20,000.00 - 10,000 = 10,000.00   cumulative  -2,577.19
    #   month 5: 29,242.34 - 10,000 = 19,242.34   cumulative  16,665.15  <- payback
    # Months 1 to 7 pair up about month 4 (adoption(4 - k) + adoption(4 + k) = 1), so their
    # adoption sums to 3.5 exactly: cumulative 40,000 x 3.5 - 70,000 = 70,000.
    # The band is 20 % of the investment so far: month 2 is -13,334.85 plus or minus 4,000.
    curve = expected_curve(_plan("10000", "40000"), 12)
    cumulative = [_cents(m.cumulative) for m in curve.months[:5]]
    assert cumulative == [
        Decimal(c) for c in ("-8102.97", "-13334.85", "-12577.19", "-2577.19", "16665.15")
    ]
    first = curve.months[0].adoption
    assert first is not None and abs(first - Decimal("0.0474258732")) < Decimal("1e-10")
    assert _cents(curve.months[6].cumulative) == Decimal("70000.00")
    assert curve.trough_month == 2
    assert _cents(curve.trough_depth) == Decimal("-13334.85")
    assert curve.payback_month == 5
    second = curve.months[1]
    assert (_cents(second.low), _cents(second.high)) == (Decimal("-17334.85"), Decimal("-9334.85"))


def test_no_payback_within_the_horizon_and_no_dip() -> None:
    slow = expected_curve(_plan("10000", "40000"), 4)
    assert (slow.trough_month, slow.payback_month) == (2, None)
    # Value above the investment from the first month: no dip, trough at month 0, payback 1.
    rich = expected_curve(_plan("100", "40000"), 3)
    assert (rich.trough_month, rich.trough_depth, rich.payback_month) == (0, Decimal(0), 1)


def test_each_status_by_construction() -> None:
    # Month 2 above: expected -13,334.85, band -17,334.85 to -9,334.85.
    month = expected_curve(_plan("10000", "40000"), 2).months[1]
    assert status(month, Decimal("-9000")) == "ahead"
    assert status(month, Decimal("-9334.85")) == "in_expected_dip"  # on the edge: inside
    assert status(month, Decimal("-15000")) == "in_expected_dip"
    assert status(month, Decimal("-18000")) == "behind"
    # Month 5: expected 16,665.15, band 6,665.15 to 26,665.15.
    month = expected_curve(_plan("10000", "40000"), 5).months[4]
    assert status(month, Decimal("10000")) == "on_track"
    assert status(month, Decimal("30000")) == "ahead"
    assert status(month, Decimal("0")) == "behind"


def test_a_band_straddling_zero_is_in_the_dip_below_and_on_track_above() -> None:
    # Month 4: expected -2,577.19, band -10,577.19 to 5,422.81.
    month = expected_curve(_plan("10000", "40000"), 4).months[3]
    assert status(month, Decimal("-0.01")) == "in_expected_dip"
    assert status(month, Decimal("0")) == "on_track"


def test_the_portfolio_curve_is_the_sum_by_calendar_month() -> None:
    # A starts in month 1 and B two months later; B's month 1 is the sum's month 3.
    a = expected_curve(_plan("10000", "40000"), 4)
    b = expected_curve(_plan("1000", "3000"), 2)
    total = sum_curves([(0, a), (2, b)])
    assert len(total.months) == 4
    assert total.months[1].cumulative == a.months[1].cumulative
    assert total.months[2].net == a.months[2].net + b.months[0].net
    assert total.months[3].cumulative == a.months[3].cumulative + b.months[1].cumulative
    # the band widths add: A's 20 % of 40,000 and B's 20 % of 2,000
    assert total.months[3].high - total.months[3].cumulative == Decimal("8400")
    assert total.months[0].adoption is None


def test_a_curve_that_ends_first_keeps_its_cumulative_in_the_sum() -> None:
    a = expected_curve(_plan("10000", "40000"), 2)
    b = expected_curve(_plan("1000", "3000"), 4)
    total = sum_curves([(0, a), (0, b)])
    assert total.months[3].cumulative == a.months[1].cumulative + b.months[3].cumulative
    assert total.months[3].investment == Decimal(1000)


plans = st.builds(
    lambda investment, value, ceiling, midpoint, steepness, band: Plan(
        Decimal(investment),
        Decimal(value),
        Decimal(ceiling),
        Decimal(midpoint),
        Decimal(steepness),
        Decimal(band),
    ),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.sampled_from(["0.1", "0.5", "0.9", "1"]),
    st.sampled_from(["0.5", "1", "4", "12", "30"]),
    st.sampled_from(["0.1", "0.5", "1", "2.5"]),
    st.sampled_from(["0", "0.1", "0.2", "1"]),
)


@settings(max_examples=60, deadline=None)
@given(plans, st.integers(1, 36))
def test_curve_invariants(plan: Plan, months: int) -> None:
    curve = expected_curve(plan, months)
    running = Decimal(0)
    for row in curve.months:
        running += row.net
        assert row.cumulative == running
        assert row.low <= row.cumulative <= row.high
    assert curve.trough_depth <= min(Decimal(0), curve.months[0].cumulative)
    assert curve.trough_depth == min([Decimal(0), *(r.cumulative for r in curve.months)])
    if curve.payback_month is not None:
        assert curve.payback_month > curve.trough_month
        assert curve.months[curve.payback_month - 1].cumulative >= 0


@settings(max_examples=60, deadline=None)
@given(plans, st.integers(1, 24), st.integers(-(10**10), 10**10))
def test_statuses_partition_the_line(plan: Plan, month: int, actual: int) -> None:
    row = expected_curve(plan, month).months[-1]
    found = status(row, Decimal(actual))
    assert found in STATUSES
    inside = row.low <= actual <= row.high
    assert (found == "ahead") == (actual > row.high)
    assert (found == "behind") == (actual < row.low)
    assert (found == "in_expected_dip") == (inside and actual < 0)
    assert (found == "on_track") == (inside and actual >= 0)

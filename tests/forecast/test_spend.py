"""Spend forecasts, worked by hand: the run rate with weekday and weekend rates, its interval,
and the forecast against the business case's planned investment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.forecast.spend import forecast_period, is_weekend, versus_plan

JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)  # 1 June 2026 is a Monday
CENT = Decimal("0.01")


def _constant(start: date, end: date, weekday: Decimal, weekend: Decimal) -> dict[date, Decimal]:
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    return {d: weekend if is_weekend(d) else weekday for d in days}


def test_a_month_at_constant_weekday_and_weekend_rates() -> None:
    # June 2026, 10 days in: 1-5 and 8-10 June are weekdays (8 x 100), 6-7 June a weekend
    # (2 x 20): spent 840. The window is those 10 days (nothing was spent before): weekday
    # rate 800 / 8 = 100, weekend rate 40 / 2 = 20. Left: 11-30 June, 20 days: weekdays
    # 11-12, 15-19, 22-26, 29-30 (14), weekend days 13-14, 20-21, 27-28 (6):
    # 14 x 100 + 6 x 20 = 1,520. Forecast 840 + 1,520 = 2,360, which is June's 22 weekdays x
    # 100 + 8 weekend days x 20. Every residual is 0: the interval has width 0.
    daily = _constant(JUNE, date(2026, 6, 11), Decimal(100), Decimal(20))
    found = forecast_period(daily, JUNE, JULY, today=date(2026, 6, 11), first=JUNE)
    assert found.spent == Decimal(840)
    assert found.days_left == 20
    assert (found.rates.weekday, found.rates.weekend) == (Decimal(100), Decimal(20))
    assert found.forecast == Decimal(2360)
    assert found.low == found.high == Decimal(2360)


def test_the_interval_from_the_residuals() -> None:
    # Three weekdays so far, 1-3 June: 100, 110, 90. No weekend day yet: one rate, 100, for
    # both kinds. Residuals 0, 10, -10: s^2 = 200 / (3 - 1) = 100. Left: 4-30 June, 27 days:
    # forecast 300 + 27 x 100 = 3,000. Variance 100 x (27 + 27^2 / 3) = 100 x 270 = 27,000;
    # sqrt = 164.3167672515; x 1.645 = 270.3010821; interval 2,729.70 to 3,270.30.
    daily = {JUNE: Decimal(100), date(2026, 6, 2): Decimal(110), date(2026, 6, 3): Decimal(90)}
    found = forecast_period(daily, JUNE, JULY, today=date(2026, 6, 4), first=JUNE)
    assert found.forecast == Decimal(3000)
    assert found.low is not None and found.high is not None
    assert (found.low.quantize(CENT), found.high.quantize(CENT)) == (
        Decimal("2729.70"),
        Decimal("3270.30"),
    )


def test_the_window_is_the_last_four_weeks() -> None:
    # May at 500 a day, June at 100 a weekday and 20 a weekend day; on 29 June the window is
    # 1-28 June (May left out): rates 100 and 20. Left: 29-30 June, two weekdays: 200.
    # Spent in June: 20 weekdays x 100 + 8 weekend days x 20 = 2,160; forecast 2,360.
    daily = {date(2026, 5, 1) + timedelta(days=n): Decimal(500) for n in range(31)}
    daily |= _constant(JUNE, date(2026, 6, 29), Decimal(100), Decimal(20))
    found = forecast_period(daily, JUNE, JULY, today=date(2026, 6, 29), first=date(2026, 5, 1))
    assert found.spent == Decimal(2160)
    assert found.forecast == Decimal(2360)


def test_a_period_that_has_ended_is_what_it_cost() -> None:
    daily = {JUNE: Decimal(7), date(2026, 6, 20): Decimal("3.5")}
    found = forecast_period(daily, JUNE, JULY, today=date(2026, 8, 3), first=JUNE)
    assert (found.spent, found.forecast, found.days_left) == (Decimal("10.5"),) * 2 + (0,)
    assert found.low == found.high == found.forecast


def test_with_nothing_spent_yet_the_forecast_is_zero() -> None:
    found = forecast_period({}, JUNE, JULY, today=date(2026, 6, 5), first=None)
    assert found.forecast == 0 and found.low is None


def test_a_period_of_months_forecasts_to_its_end() -> None:
    # A quarter, June to August, on 11 June at 100 / 20: left 20 June days (1,520 as above),
    # July (23 weekdays, 8 weekend days: 2,460) and August (21, 10: 2,300).
    daily = _constant(JUNE, date(2026, 6, 11), Decimal(100), Decimal(20))
    end = date(2026, 9, 1)
    found = forecast_period(daily, JUNE, end, today=date(2026, 6, 11), first=JUNE)
    assert found.forecast == Decimal(840 + 1520 + 2460 + 2300)


def test_against_the_plan() -> None:
    # Planned 1,000 this month and 2,000 before it (two months of the programme so far).
    assert versus_plan(Decimal(900), Decimal(1000), Decimal(2500), Decimal(2000)) == "within_plan"
    # 1,200 forecast, but 1,500 spent before: 2,700 by the month's end against 3,000 planned.
    assert (
        versus_plan(Decimal(1200), Decimal(1000), Decimal(1500), Decimal(2000)) == "planned_overrun"
    )
    # 2,000 spent before: 3,200 against 3,000.
    assert versus_plan(Decimal(1200), Decimal(1000), Decimal(2000), Decimal(2000)) == "over_plan"


rates = st.decimals(min_value=0, max_value=10**6, places=2)


@settings(max_examples=60, deadline=None)
@given(weekday=rates, weekend=rates, days_in=st.integers(min_value=2, max_value=29))
def test_constant_rates_forecast_the_whole_month_exactly(
    weekday: Decimal, weekend: Decimal, days_in: int
) -> None:
    today = JUNE + timedelta(days=days_in)
    daily = _constant(JUNE, today, weekday, weekend)
    found = forecast_period(daily, JUNE, JULY, today=today, first=JUNE)
    whole = sum(_constant(JUNE, JULY, weekday, weekend).values(), Decimal(0))
    if days_in < 6 and weekday != weekend:
        return  # no weekend day seen yet: one rate for both
    assert found.forecast == whole
    assert found.low == found.high == whole

"""Spend forecasts: what a period (a month, a budget's period) will have cost by its end, from
the days so far, and how that stands against the business case's planned investment.

**Run rate with weekday seasonality.** Spend on a working day and on a weekend day differ (people
and their jobs run on weekdays), so the forecast keeps two daily rates, estimated from the
``WINDOW_DAYS`` (28: four whole weeks, each day of the week four times) that ended last, not
before the first day with any spend:

    weekday rate = mean spend of the window's Mondays to Fridays
    weekend rate = mean spend of its Saturdays and Sundays

(where the window has days of one kind only, both rates are that kind's mean; with no day at
all, both are 0 and the forecast is the spend so far). Then

    forecast = spend of the period's days that have ended
             + weekday rate x weekdays left + weekend rate x weekend days left

**Its interval** (90 %): each window day's residual is its spend less its kind's rate; ``s``
is their standard deviation, ``sqrt(sum r^2 / (n - k))`` over the window's ``n`` days, ``k``
the number of rates estimated (2, or 1). The days left add up ``d = dw + de`` days, each off its
rate by about ``s``, and the rates themselves are means of ``nw`` and ``ne`` days, so

    variance = s^2 x (d + dw^2 / nw + de^2 / ne)      (one rate: s^2 x (d + d^2 / n))
    interval = forecast -+ 1.645 x sqrt(variance)

1.645 is the normal distribution's 95th percentile: the interval leaves 5 % out on each side if
days vary independently around their rates. Spend at constant rates has residuals of 0 and an
interval of width 0; a period that has ended has no day left and none either.

**Against the plan.** The business case plans a monthly investment from the month the
initiative entered ``poc`` (its J-curve's month 1). A forecast above the period's planned
investment is an overrun; it is ``planned`` when the spend from the start of the programme to
the period's end (every cost before the period, what was recorded before month 1 included, as
the J-curve counts it, plus the forecast) stays within what the plan invests by then: the
J-curve expected that money to be spent by now (a slow start catching up). Else it is
``over_plan``: spend the plan did not expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Literal

from valuegap.bounds import WIDE, rounded
from valuegap.records import record

WINDOW_DAYS = 28
Z = Decimal("1.645")  # the two-sided 90 % interval of a normal distribution
PLACES = Decimal("1e-10")
ZERO = Decimal(0)

PlanStatus = Literal["within_plan", "planned_overrun", "over_plan"]


@record
class Rates:
    """Daily rates estimated from a window of days, and their residuals' spread (None when
    there are too few days to estimate it)."""

    weekday: Decimal
    weekend: Decimal
    spread: Decimal | None
    weekdays: int  # in the window
    weekend_days: int


@record
class PeriodForecast:
    """A period's spend: so far, and forecast by its end with an interval."""

    start: date
    end: date  # the day after the last
    spent: Decimal  # the days that have ended
    days_left: int
    forecast: Decimal
    low: Decimal | None  # None: too few days to tell the spread
    high: Decimal | None
    rates: Rates


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def estimate(daily: Mapping[date, Decimal], first: date, end: date) -> Rates:
    """The rates of the days [first, end) (a day missing from ``daily`` spent nothing)."""
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    weekdays = [daily.get(d, ZERO) for d in days if not is_weekend(d)]
    weekend = [daily.get(d, ZERO) for d in days if is_weekend(d)]
    with localcontext(WIDE):
        everything = weekdays + weekend
        if not everything:
            return Rates(ZERO, ZERO, None, 0, 0)
        pooled = sum(everything, ZERO) / len(everything)
        weekday = sum(weekdays, ZERO) / len(weekdays) if weekdays else pooled
        weekend_rate = sum(weekend, ZERO) / len(weekend) if weekend else pooled
        estimated = (1 if weekdays else 0) + (1 if weekend else 0)
        squares = sum(((x - weekday) ** 2 for x in weekdays), ZERO) + sum(
            ((x - weekend_rate) ** 2 for x in weekend), ZERO
        )
        free = len(everything) - estimated
        spread = (squares / free).sqrt() if free > 0 else None
    return Rates(weekday, weekend_rate, spread, len(weekdays), len(weekend))


def forecast_period(
    daily: Mapping[date, Decimal], start: date, end: date, today: date, first: date | None
) -> PeriodForecast:
    """The spend of days [start, end) by ``end``: ``daily`` holds the spend of the days before
    ``today`` (a missing day spent nothing), ``first`` is the first day with any spend (None:
    none yet). The rates come from the ``WINDOW_DAYS`` before ``today`` (or before ``end``, for
    a period that has ended), not before ``first``."""
    observed_end = max(start, min(end, today))
    spent = sum((v for d, v in daily.items() if start <= d < observed_end), ZERO)
    window_end = min(today, end)
    window_start = max(window_end - timedelta(days=WINDOW_DAYS), first or window_end)
    rates = estimate(daily, window_start, max(window_start, window_end))
    left = [observed_end + timedelta(days=n) for n in range((end - observed_end).days)]
    weekend_left = sum(1 for d in left if is_weekend(d))
    weekdays_left = len(left) - weekend_left
    with localcontext(WIDE):
        ahead = rates.weekday * weekdays_left + rates.weekend * weekend_left
        forecast = rounded(spent + ahead, PLACES)
        half = _half_width(rates, weekdays_left, weekend_left)
    low = rounded(forecast - half, PLACES) if half is not None else None
    high = rounded(forecast + half, PLACES) if half is not None else None
    return PeriodForecast(start, end, spent, len(left), forecast, low, high, rates)


def _half_width(rates: Rates, weekdays_left: int, weekend_left: int) -> Decimal | None:
    left = weekdays_left + weekend_left
    if not left:
        return ZERO
    if rates.spread is None:
        return None
    nw, ne = rates.weekdays, rates.weekend_days
    if nw and ne:
        estimation = Decimal(weekdays_left**2) / nw + Decimal(weekend_left**2) / ne
    else:  # one rate stands for both kinds of day
        estimation = Decimal(left**2) / (nw + ne)
    variance = rates.spread**2 * (left + estimation)
    return Z * variance.sqrt()


def versus_plan(
    forecast: Decimal, planned: Decimal, spent_before: Decimal, planned_before: Decimal
) -> PlanStatus:
    """A period's forecast against its planned investment ``planned``; ``spent_before`` and
    ``planned_before``: the spend and the planned investment from the start of the programme
    to the period's start."""
    if forecast <= planned:
        return "within_plan"
    if spent_before + forecast <= planned_before + planned:
        return "planned_overrun"
    return "over_plan"

"""The J-curve report: an initiative's expected J-curve (``forecast.jcurve``) in calendar months,
with its actual net value month by month against it; and the portfolio's, the sum of theirs.

Month 1 is the calendar month in which the initiative entered ``poc``: the programme starts
there. Before that the curve is shown by month number only, named in advance. The actual net
value of a month is its measured value less its allocated cost, in the reporting currency;
what was recorded before month 1 counts in month 1, so the actual cumulative is everything so
far. Actuals run to the last month with cost or value, and only through months that have ended.
A business case in another currency is converted at the rate of its first month (or of the
current month before it starts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from valuegap.bounds import WIDE
from valuegap.decimals import money as shown
from valuegap.forecast.jcurve import JCurve, Status, expected_curve, status, sum_curves
from valuegap.forecast.ramp import Plan
from valuegap.model.portfolio import Initiative
from valuegap.months import add_months, month_start, months_apart
from valuegap.outcomes.assessment import ZERO, assess
from valuegap.outcomes.facts import Facts
from valuegap.outcomes.finance import money
from valuegap.outcomes.periods import Window
from valuegap.records import record
from valuegap.results import Money, Ratio

DEFAULT_MONTHS = 24  # the months forecast, unless the actuals run longer


@record
class JCurveMonth:
    """One month of a J-curve: expected, its band, and actual where the month has ended."""

    month: int  # 1 is the month the programme started (entered poc)
    calendar_month: str | None  # YYYY-MM; None before the programme starts
    adoption: Ratio | None  # the ramp's share of full adoption; None for the portfolio
    expected_net: Money
    expected_cumulative: Money
    band_low: Money
    band_high: Money
    actual_net: Money | None
    actual_cumulative: Money | None
    status: Status | None  # ahead | on_track | in_expected_dip | behind


@record
class JCurveLine:
    """An initiative in the portfolio's J-curve."""

    id: str
    start: str | None  # YYYY-MM of its month 1; None: not started, so not in the sum
    status: Status | None  # at its latest month with actuals (a retired one's: when retired)
    retired: str | None = None  # YYYY-MM it was retired: no live status since


@record
class JCurveReport:
    """The J-curve of one initiative (``initiative``) or of the portfolio (None)."""

    initiative: str | None
    currency: str
    start: str | None  # YYYY-MM of month 1
    band: Ratio | None  # the business case's band; None for the portfolio
    trough_month: int  # 0: the curve never falls below zero
    trough_depth: Money
    payback_month: int | None  # None: not within the months forecast
    latest_month: int | None  # the latest month with actuals
    status: Status | None
    explanation: str
    months: list[JCurveMonth]
    initiatives: list[JCurveLine]  # the portfolio's; empty for one initiative


@record
class _Track:
    """One initiative's plan (in the reporting currency), start and actual net values."""

    initiative: Initiative
    plan: Plan
    start: date | None
    actual: list[Decimal]  # months 1 to the latest with actuals


def initiative_jcurve(
    facts: Facts, initiative: Initiative, started: date | None, today: date, months: int | None
) -> JCurveReport:
    track = _track(facts, initiative, started, today)
    horizon = max(months or DEFAULT_MONTHS, len(track.actual))
    curve = expected_curve(track.plan, horizon)
    band = track.plan.band
    return _report(facts.currency, initiative.id, band, curve, track.start, track.actual, [])


def portfolio_jcurve(
    facts: Facts,
    started: Mapping[str, date],
    retired: Mapping[str, date],
    today: date,
    months: int | None,
) -> JCurveReport:
    """The sum of the J-curves of the initiatives with a business case that have started, by
    calendar month; a retired one's expected curve ends in the month it was retired."""
    tracks = [
        _track(facts, i, started.get(i.id), today)
        for i in facts.initiatives
        if i.business_case is not None
    ]
    running = [t for t in tracks if t.start is not None]
    first = min((t.start for t in running if t.start), default=None)
    offsets = [months_apart(first, t.start) if first and t.start else 0 for t in running]
    spans = [o + len(t.actual) for o, t in zip(offsets, running, strict=True)]
    horizon = max([months or DEFAULT_MONTHS, *(o + 1 for o in offsets), *spans])
    curves: dict[str, tuple[int, JCurve]] = {}  # each at least as long as its actuals
    for offset, track in zip(offsets, running, strict=True):
        length = horizon - offset
        if (end := retired.get(track.initiative.id)) and track.start:
            length = max(months_apart(track.start, end) + 1, len(track.actual))
        curves[track.initiative.id] = (offset, expected_curve(track.plan, length))
    actual = [ZERO] * max(spans, default=0)
    for offset, track in zip(offsets, running, strict=True):
        for m, net in enumerate(track.actual):
            actual[offset + m] += net
    lines = [
        JCurveLine(
            t.initiative.id,
            _named(t.start),
            _latest(t, curves.get(t.initiative.id)),
            _named(retired.get(t.initiative.id)),
        )
        for t in tracks
    ]
    summed = sum_curves(list(curves.values()))
    return _report(facts.currency, None, None, summed, first, actual, lines)


def _track(facts: Facts, initiative: Initiative, started: date | None, today: date) -> _Track:
    case = initiative.business_case
    assert case is not None, "only an initiative with a business case has a J-curve"
    start = month_start(started) if started else None
    rate = facts.convert(case.currency, start or month_start(today))
    plan = Plan.of(case)
    invested = WIDE.multiply(plan.monthly_investment, rate)
    valued = WIDE.multiply(plan.monthly_value, rate)
    plan = dataclasses.replace(plan, monthly_investment=invested, monthly_value=valued)
    if start is None:
        return _Track(initiative, plan, None, [])
    so_far = assess(facts, initiative, Window())
    nets = dict(so_far.value_by_month(Window()))
    for month, cost in so_far.cost_by_month.items():
        nets[month] = nets.get(month, ZERO) - cost
    ended = [m for m in nets if m < month_start(today)]
    last = max(months_apart(start, max(ended)) + 1, 1) if ended else 0
    actual = [ZERO] * last
    for month, net in nets.items():
        if month < month_start(today) and (at := months_apart(start, month)) < last:
            actual[max(at, 0)] += net  # before month 1: counted in month 1
    return _Track(initiative, plan, start, actual)


def _latest(track: _Track, expected: tuple[int, JCurve] | None) -> Status | None:
    """The status of the track's latest month with actuals, on its ``expected`` curve (a
    curve's months do not depend on its length)."""
    if not track.actual or expected is None:
        return None
    latest = expected[1].months[len(track.actual) - 1]
    return status(latest, sum(track.actual, ZERO))


def _report(
    currency: str,
    initiative: str | None,
    band: Decimal | None,
    curve: JCurve,
    start: date | None,
    actual: Sequence[Decimal],
    lines: list[JCurveLine],
) -> JCurveReport:
    rows, cumulative = [], ZERO
    for row in curve.months:
        net = actual[row.month - 1] if row.month <= len(actual) else None
        cumulative += net or ZERO
        rows.append(
            JCurveMonth(
                month=row.month,
                calendar_month=_named(add_months(start, row.month - 1) if start else None),
                adoption=float(round(row.adoption, 4)) if row.adoption is not None else None,
                expected_net=money(row.net),
                expected_cumulative=money(row.cumulative),
                band_low=money(row.low),
                band_high=money(row.high),
                actual_net=money(net) if net is not None else None,
                actual_cumulative=money(cumulative) if net is not None else None,
                status=status(row, cumulative) if net is not None else None,
            )
        )
    latest = rows[len(actual) - 1] if actual else None
    return JCurveReport(
        initiative=initiative,
        currency=currency,
        start=_named(start),
        band=float(band) if band is not None else None,
        trough_month=curve.trough_month,
        trough_depth=money(curve.trough_depth),
        payback_month=curve.payback_month,
        latest_month=latest.month if latest else None,
        status=latest.status if latest else None,
        explanation=_explain(curve, latest, currency, len(curve.months)),
        months=rows,
        initiatives=lines,
    )


def _named(month: date | None) -> str | None:
    return f"{month:%Y-%m}" if month else None


def _explain(curve: JCurve, latest: JCurveMonth | None, currency: str, horizon: int) -> str:
    """The expected shape, and where the actual figure stands, in words."""
    if curve.trough_month:
        dip = (
            f"The business case expects its trough in month {curve.trough_month} at "
            f"{shown(curve.trough_depth, currency)} {currency}"
        )
    else:
        dip = "The business case expects no dip: its net value is never below zero"
    paid = (
        f"payback in month {curve.payback_month}"
        if curve.payback_month
        else f"no payback within {horizon} months"
    )
    said = f"{dip}, and {paid}."
    if latest is None or latest.actual_cumulative is None:
        return f"{said} No actuals yet: this is the curve named in advance."
    actual = f"{shown(latest.actual_cumulative, currency)} {currency}"
    band = f"{shown(latest.band_low, currency)} to {shown(latest.band_high, currency)} {currency}"
    where = {
        "ahead": f"ahead: the actual cumulative net value {actual} is above the band ({band})",
        "on_track": f"on track: {actual} is inside the band ({band}) and at or above zero",
        "in_expected_dip": (
            f"in the expected dip: {actual} is below zero but inside the band ({band}); this "
            "is the dip the business case named in advance, which is normal, not a failure"
        ),
        "behind": f"behind: {actual} is below the band ({band})",
    }[latest.status or "on_track"]
    return f"{said} In month {latest.month} it is {where}."

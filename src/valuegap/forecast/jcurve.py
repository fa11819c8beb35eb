"""The J-curve, named in advance: the cumulative net value a business case expects month by
month, with its band, its trough and its payback month; and where an actual figure stands.

Month m (1 is the first month of the programme) expects the ramp's value less the month's
investment (``forecast.ramp``); the cumulative net value is their running sum, and the curve
starts at month 0 with nothing spent (cumulative 0). Then:

- the **trough** is the curve's lowest point, month 0 included (the earliest, if two are
  equal): its depth is at most 0, and a curve that never falls below zero has its trough at
  month 0 (no dip);
- the **payback month** is the first month after the trough whose cumulative net value is at
  or above 0; None when that does not happen within the months forecast;
- the **band** around the expected cumulative net value is plus or minus ``band`` x the
  investment made so far (``band`` 0.2: 20 % of the money invested to date). In ROI terms it is
  the expected ROI plus or minus ``band``, since ROI is the net value over the investment.

An actual cumulative net value A against month m's expected E, band [low, high]:

- ``ahead``: A > high;
- ``behind``: A < low;
- ``in_expected_dip``: low <= A <= high and A < 0 (below zero, as the business case expects:
  the normal dip, not a failure);
- ``on_track``: low <= A <= high and A >= 0.

These four partition every value of A.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Literal

from valuegap.bounds import WIDE, rounded
from valuegap.forecast.ramp import Plan
from valuegap.records import record

Status = Literal["ahead", "on_track", "in_expected_dip", "behind"]
STATUSES: tuple[Status, ...] = ("ahead", "on_track", "in_expected_dip", "behind")
ZERO = Decimal(0)
PLACES = Decimal("1e-10")  # a month's expected value, as the store keeps money


@record
class ExpectedMonth:
    """Month ``month`` of a J-curve, as the business case expects it."""

    month: int  # 1 is the first month of the programme
    adoption: Decimal | None  # the ramp's share of full adoption; None on a sum of curves
    value: Decimal
    investment: Decimal
    net: Decimal  # value - investment
    cumulative: Decimal  # the running sum of net
    low: Decimal  # the band's lower edge around ``cumulative``
    high: Decimal  # its upper edge


@record
class JCurve:
    """An expected J-curve: its months, its trough and its payback month."""

    months: tuple[ExpectedMonth, ...]
    trough_month: int  # 0 when the curve never falls below zero
    trough_depth: Decimal  # the lowest cumulative net value; at most 0
    payback_month: int | None  # None: not within these months


def expected_curve(plan: Plan, months: int) -> JCurve:
    """The J-curve ``plan`` expects over its first ``months`` months."""
    rows, cumulative = [], ZERO
    with localcontext(WIDE):
        for m in range(1, months + 1):
            adoption = plan.adoption(m)
            value = rounded(plan.monthly_value * adoption, PLACES)
            net = value - plan.monthly_investment
            cumulative += net
            width = plan.band * plan.monthly_investment * m
            low, high = cumulative - width, cumulative + width
            investment = plan.monthly_investment
            rows.append(ExpectedMonth(m, adoption, value, investment, net, cumulative, low, high))
    return _curve(rows)


def sum_curves(curves: Sequence[tuple[int, JCurve]]) -> JCurve:
    """The sum of J-curves, each starting ``offset`` months after the first month of the sum.
    Before its first month a curve adds nothing; after its last it adds no more value or
    investment, and its cumulative net value and band stay where they ended."""
    length = max((offset + len(c.months) for offset, c in curves), default=0)
    rows = []
    with localcontext(WIDE):
        for m in range(1, length + 1):
            rows.append(_sum_month(curves, m))
    return _curve(rows)


def _sum_month(curves: Sequence[tuple[int, JCurve]], m: int) -> ExpectedMonth:
    """Month ``m`` of the sum of ``curves``."""
    value = investment = cumulative = below = above = ZERO
    for offset, curve in curves:
        local = m - offset
        if local < 1 or not curve.months:
            continue
        row = curve.months[min(local, len(curve.months)) - 1]
        if local <= len(curve.months):
            value, investment = value + row.value, investment + row.investment
        cumulative += row.cumulative
        below, above = below + row.cumulative - row.low, above + row.high - row.cumulative
    low, high = cumulative - below, cumulative + above
    return ExpectedMonth(m, None, value, investment, value - investment, cumulative, low, high)


def status(expected: ExpectedMonth, actual_cumulative: Decimal) -> Status:
    """Where an actual cumulative net value stands against month ``expected``'s band."""
    if actual_cumulative > expected.high:
        return "ahead"
    if actual_cumulative < expected.low:
        return "behind"
    return "in_expected_dip" if actual_cumulative < 0 else "on_track"


def _curve(rows: list[ExpectedMonth]) -> JCurve:
    trough_month, depth = 0, ZERO
    for row in rows:
        if row.cumulative < depth:
            trough_month, depth = row.month, row.cumulative
    payback = next((r.month for r in rows if r.month > trough_month and r.cumulative >= 0), None)
    return JCurve(tuple(rows), trough_month, depth, payback)

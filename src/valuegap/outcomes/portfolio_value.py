"""The portfolio's value in a window: the sum of its initiatives' values, with the interval of
that sum worked out from their variances (never by summing lower bounds), and its ROI on all
AI cost of the window, unallocated included. A contributor's is that of the business units
they may see: their initiatives' value on their units' cost (``Outcomes.facts``)."""

from __future__ import annotations

from valuegap.outcomes.assessment import ZERO, assess, validated_ids
from valuegap.outcomes.evaluation import ValueInterval, value_interval
from valuegap.outcomes.facts import Facts
from valuegap.outcomes.finance import money, roi
from valuegap.outcomes.periods import Period, Window
from valuegap.records import record
from valuegap.results import Money, Ratio


@record
class PortfolioValue:
    """Value of every initiative's metrics in the window, point and interval (conservative:
    the interval's lower bound), and ROI = (value - all AI cost) / all AI cost."""

    period: Period
    currency: str
    confidence_level: Ratio
    total_cost: Money  # all AI cost the reader may see, unallocated included (as the report)
    value: Money
    value_low: Money | None
    value_high: Money | None
    no_interval: str | None  # why the value has no interval
    roi: Ratio | None
    roi_conservative: Ratio | None  # from value_low


def portfolio_value(facts: Facts, window: Window) -> PortfolioValue:
    # Imported here: ``Outcomes`` imports this module for its result type, and a report
    # that makes none of these (the J-curve) needs no other report.
    from valuegap.outcomes.reports import window_coverage

    assessed = [assess(facts, i, window) for i in facts.initiatives]
    periods = (p for a in assessed for m in a.metrics for p in m.periods)
    # The initiatives' metrics measure different groups, so their variances add, as within
    # one initiative (``Assessment.interval``).
    found = value_interval(periods, facts.level)
    if found.value is None:  # nothing measured: worth nothing, exactly
        found = ValueInterval(ZERO, ZERO, ZERO)
    cost = window_coverage(facts, validated_ids(assessed), window).total_cost
    value = money(found.value or ZERO)
    low = None if found.low is None else money(found.low)
    return PortfolioValue(
        period=Period.of(window),
        currency=facts.currency,
        confidence_level=facts.level,
        total_cost=cost,
        value=value,
        value_low=low,
        value_high=None if found.high is None else money(found.high),
        no_interval=found.no_interval,
        roi=roi(value, cost),
        roi_conservative=None if low is None else roi(low, cost),
    )

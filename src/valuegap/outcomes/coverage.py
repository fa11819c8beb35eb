"""The coverage trend: attribution coverage month by month.

Each month's figure is the portfolio report's for that month alone (``reports.window_coverage``:
the cost of initiatives with a validated outcome in the month over all AI cost of the month,
unallocated included), worked out from one reading of the facts rather than one portfolio
report per month.
"""

from __future__ import annotations

from datetime import date

from valuegap.months import month_starts, next_month
from valuegap.outcomes.assessment import validated_in
from valuegap.outcomes.facts import Facts
from valuegap.outcomes.periods import Period, Window
from valuegap.records import record
from valuegap.results import Money, Ratio


@record
class CoverageMonth:
    """One month's attribution coverage (None: no cost in the month to divide by)."""

    month: str  # YYYY-MM
    attribution_coverage: Ratio | None
    total_cost: Money
    validated_cost: Money


@record
class CoverageTrend:
    """Attribution coverage by month, from the first month with cost in the window to the
    last (a window's bounds where it names them), and its change from the first month with a
    figure to the last."""

    period: Period
    currency: str
    months: list[CoverageMonth]
    first_coverage: Ratio | None
    latest_coverage: Ratio | None
    coverage_change: Ratio | None


def coverage_trend(facts: Facts, window: Window) -> CoverageTrend:
    charged = sorted({r.month for r in facts.costs if window.holds(r.month)})
    first = window.start or (charged[0] if charged else None)
    last_end = window.end or (next_month(charged[-1]) if charged else None)
    months = month_starts(first, last_end) if first and last_end else []
    rows = [_month(facts, month) for month in months]
    figures = [r.attribution_coverage for r in rows if r.attribution_coverage is not None]
    first_figure = figures[0] if figures else None
    latest_figure = figures[-1] if figures else None
    change = (
        round(latest_figure - first_figure, 4)
        if first_figure is not None and latest_figure is not None
        else None
    )
    return CoverageTrend(
        period=Period.of(window),
        currency=facts.currency,
        months=rows,
        first_coverage=first_figure,
        latest_coverage=latest_figure,
        coverage_change=change,
    )


def _month(facts: Facts, month: date) -> CoverageMonth:
    # Imported here: ``Outcomes`` imports this module for its result type, and a report
    # that makes none of these (the J-curve) needs no other report.
    from valuegap.outcomes.reports import window_coverage

    window = Window(month, next_month(month))
    charged = {r.initiative for r in facts.costs if window.holds(r.month)}
    validated = {
        i.id for i in facts.initiatives if i.id in charged and validated_in(facts, i, window)
    }
    found = window_coverage(facts, validated, window)
    return CoverageMonth(
        month=f"{month:%Y-%m}",
        attribution_coverage=found.attribution_coverage,
        total_cost=found.total_cost,
        validated_cost=found.validated_cost,
    )

"""The executive report: the headline numbers, the coverage trend, the J-curves and the
scale/fix/kill list, on one to three pages, made of the same reports the CLI and API return.

Nothing here decides anything new. The list is what the ledger already recommends: each
initiative's latest scale-or-kill review up to the period's end (``governance.reviews``, as the
outcome facts hold them: scale, continue, fix or kill, with its reasons), and for one not yet
reviewed, its validation state and J-curve status as they stand, named "not reviewed yet". An
initiative retired in the period is listed with its retirement day (a kill carried out is news
for the period); one retired before the period is not.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from valuegap import decimals
from valuegap.months import add_months, quarter_start
from valuegap.outcomes.coverage import CoverageTrend
from valuegap.outcomes.jcurve import JCurveReport
from valuegap.outcomes.periods import Period, Window
from valuegap.records import record
from valuegap.results import Money, Ratio

if TYPE_CHECKING:
    from valuegap.ledger import Ledger

Action = Literal["scale", "fix", "kill", "continue", "not_reviewed"]
ACTION_ORDER: tuple[Action, ...] = ("scale", "fix", "kill", "continue", "not_reviewed")
TREND_MONTHS = 12  # the coverage trend: the year to the window's end
JCURVES_SHOWN = 2  # initiatives' J-curves beside the portfolio's


@record
class Headline:
    """The window's numbers: spend, value (point and conservative), ROI, coverage."""

    total_cost: Money
    value: Money
    value_low: Money | None  # conservative: the interval's lower bound
    value_high: Money | None
    roi: Ratio | None
    roi_conservative: Ratio | None
    attribution_coverage: Ratio | None
    previous_attribution_coverage: Ratio | None
    coverage_change: Ratio | None
    validated_cost: Money
    unallocated_cost: Money


@record
class ActionLine:
    """An initiative in the scale/fix/kill list."""

    id: str
    name: str
    business_unit: str
    stage: str
    action: Action
    reviewed_on: date | None  # the review's as-of day; None: not reviewed yet
    retired_on: date | None  # the day it was retired, if that was before the period's end
    reasons: list[str]
    validated: bool
    jcurve_status: str | None
    total_cost: Money
    roi: Ratio | None


@record
class ExecutiveReport:
    period: Period
    currency: str
    confidence_level: Ratio
    headline: Headline
    coverage: CoverageTrend
    portfolio_jcurve: JCurveReport
    jcurves: list[JCurveReport]  # the initiatives' that matter most (behind first, then cost)
    actions: list[ActionLine]


def default_window(ledger: Ledger) -> Window:
    """The latest quarter with cost (the scoreboard's), compared with the one before."""
    months = _charged_months(ledger)
    latest = max(months) if months else ledger.session.now().date()
    start = quarter_start(latest)
    return Window(start, add_months(start, 3))


def executive_report(ledger: Ledger, window: Window | None = None) -> ExecutiveReport:
    asked = window or default_window(ledger)
    outcomes = ledger.outcomes
    portfolio = outcomes.portfolio_report(asked)
    value = outcomes.portfolio_value(asked)
    trend_end = asked.end or _after_latest(ledger)
    trend = outcomes.coverage_trend(
        Window(add_months(trend_end, -TREND_MONTHS), trend_end) if trend_end else Window()
    )
    whole = outcomes.portfolio_jcurve()
    statuses = {line.id: line.status for line in whole.initiatives}
    facts = outcomes.facts()  # as the reports above read them
    # Reviews come oldest first: the last one before the window's end is what was said then.
    said_then = [r for r in facts.reviews if asked.end is None or r.as_of < asked.end]
    latest_review = {r.initiative: r for r in said_then}
    retired = {r.initiative: r.day for r in facts.retirements}  # retired is final
    actions = []
    for row in portfolio.initiatives:
        retired_on = retired.get(row.id) if row.stage == "retired" else None
        if retired_on is not None and asked.start is not None and retired_on < asked.start:
            continue  # retired before the period: nothing left to decide
        if retired_on is not None and asked.end is not None and retired_on >= asked.end:
            retired_on = None  # still running in the period
        review = latest_review.get(row.id)
        status = statuses.get(row.id)
        if review is not None:
            action: Action = review.recommendation
            reasons = list(review.reasons)
        else:
            action, reasons = "not_reviewed", [_standing(row.validated, row.validation_reason)]
        actions.append(
            ActionLine(
                id=row.id,
                name=row.name,
                business_unit=row.business_unit,
                stage=row.stage,
                action=action,
                reviewed_on=review.as_of if review else None,
                retired_on=retired_on,
                reasons=reasons,
                validated=row.validated,
                jcurve_status=status,
                total_cost=row.total_cost,
                roi=row.roi,
            )
        )
    actions.sort(key=lambda a: (ACTION_ORDER.index(a.action), -a.total_cost))
    return ExecutiveReport(
        period=portfolio.period,
        currency=portfolio.currency,
        confidence_level=portfolio.confidence_level,
        headline=Headline(
            total_cost=portfolio.total_cost,
            value=value.value,
            value_low=value.value_low,
            value_high=value.value_high,
            roi=value.roi,
            roi_conservative=value.roi_conservative,
            attribution_coverage=portfolio.attribution_coverage,
            previous_attribution_coverage=portfolio.previous_attribution_coverage,
            coverage_change=portfolio.coverage_change,
            validated_cost=portfolio.validated_cost,
            unallocated_cost=portfolio.unallocated_cost,
        ),
        coverage=trend,
        portfolio_jcurve=whole,
        jcurves=_jcurves_that_matter(ledger, whole, {a.id: a.total_cost for a in actions}),
        actions=actions,
    )


def _jcurves_that_matter(
    ledger: Ledger, whole: JCurveReport, cost: dict[str, Money]
) -> list[JCurveReport]:
    """The initiatives behind their business case first, then those in the expected dip, then
    the rest, each group by cost in the window, largest first."""
    rank = {"behind": 0, "in_expected_dip": 1}
    running = [line for line in whole.initiatives if line.status and line.id in cost]
    running.sort(key=lambda line: (rank.get(line.status or "", 2), -cost[line.id]))
    return [ledger.outcomes.jcurve(line.id) for line in running[:JCURVES_SHOWN]]


def _after_latest(ledger: Ledger) -> date | None:
    months = _charged_months(ledger)
    return add_months(max(months), 1) if months else None


def _charged_months(ledger: Ledger) -> list[date]:
    """The months with cost, as the reports read them (``Outcomes.facts``)."""
    return [cost.month for cost in ledger.outcomes.facts().costs]


def _standing(validated: bool, reason: str) -> str:
    return "Validated outcome." if validated else f"No validated outcome yet ({reason})."


# As people read it: shared by the HTML and the PDF.

ACTIONS_HEADING = "Scale, fix or kill"
ACTIONS_NOTE = (
    "Each initiative's latest scale-or-kill review up to the period's end, with its reasons; "
    "one not yet reviewed shows its validation state. An initiative retired in the period is "
    "listed with the day it was retired; one retired before the period is not."
)


def action_when(line: ActionLine) -> list[str]:
    """The days beside a recommendation: the review's, and the retirement's."""
    days = [str(line.reviewed_on)] if line.reviewed_on else []
    return days + ([f"retired on {line.retired_on}"] if line.retired_on else [])


ACTION_WORDS: dict[Action, str] = {
    "scale": "Scale",
    "fix": "Fix",
    "kill": "Kill",
    "continue": "Continue",
    "not_reviewed": "Not reviewed yet",
}
STATUS_WORDS = {
    "ahead": "ahead",
    "on_track": "on track",
    "in_expected_dip": "in the expected dip",
    "behind": "behind",
}


@record
class Figure:
    """A headline number as shown: its label, its value, a note under it, and its test id."""

    key: str
    label: str
    value: str
    note: str


def money_text(amount: Decimal | None, currency: str) -> str:
    return "none" if amount is None else f"{decimals.money(amount, currency)} {currency}"


def percent_text(ratio: float | None) -> str:
    return "none" if ratio is None else decimals.percent(Decimal(str(ratio)))


def period_text(period: Period) -> str:
    start, end = period.start, period.end
    if start and end:
        return f"{start:%B %Y} to {add_months(end, -1):%B %Y}"
    if start:
        return f"from {start:%B %Y}"
    if end:
        return f"to {add_months(end, -1):%B %Y}"
    return "all time"


def figures(report: ExecutiveReport) -> list[Figure]:
    h, c = report.headline, report.currency
    change = (
        f"{decimals.points(Decimal(str(h.coverage_change)))} on the period before "
        f"({percent_text(h.previous_attribution_coverage)})"
        if h.coverage_change is not None
        else "no period before to compare with"
    )
    level = f"{report.confidence_level:.0%}"
    return [
        Figure(
            "total-cost",
            "Total AI spend",
            money_text(h.total_cost, c),
            "all of it, unallocated included",
        ),
        Figure(
            "attribution-coverage",
            "Attribution coverage",
            percent_text(h.attribution_coverage),
            change,
        ),
        Figure(
            "value",
            "Value (point estimate)",
            money_text(h.value, c),
            f"{level} interval up to {money_text(h.value_high, c)}",
        ),
        Figure(
            "value-conservative",
            "Value (conservative)",
            money_text(h.value_low, c),
            f"the lower bound of the {level} interval",
        ),
        Figure(
            "roi",
            "ROI",
            percent_text(h.roi),
            f"conservative {percent_text(h.roi_conservative)}; on all AI spend",
        ),
        Figure(
            "unallocated-cost",
            "Unallocated spend",
            money_text(h.unallocated_cost, c),
            "spend no allocation rule ties to an initiative or unit",
        ),
    ]

"""What the outcome reports return: one initiative, the portfolio, and the scoreboard.

docs/outcomes.md describes every field and its JSON form. Money is Decimal (a string in JSON),
ratios are floats to four decimals, a figure that cannot be worked out (nothing to divide by,
no previous window) is None (null).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from valuegap.model.vocabulary import Kind, Method, RiskTier, Stage
from valuegap.outcomes.capacity import Capacity as Capacity  # a field of InitiativeReport
from valuegap.outcomes.finance import Trend
from valuegap.outcomes.periods import Period as Period  # the window of every report
from valuegap.records import record
from valuegap.results import Money, Ratio

State = Literal["validated", "not_validated", "killed"]
Count = int | float  # outcomes: whole, or to two decimals where a period spreads over months


# One initiative


@record
class InitiativeSummary:
    id: str
    name: str
    kind: Kind
    business_unit: str
    stage: Stage
    risk_tier: RiskTier | None


@record
class MetricPeriod:
    """A metric's outcome in one measurement period."""

    period_start: date
    period_end: date
    effect: float | None
    effect_low: float | None
    effect_high: float | None
    std_error: float | None
    volume: Decimal | None
    value: Money | None
    value_low: Money | None
    value_high: Money | None
    validated: bool
    validation_reason: str


@record
class MetricResult:
    """A success metric in the window: its latest period's effect, its value over the periods
    with their interval, and whether it is validated."""

    id: str
    primary: bool
    holm_significant: bool
    name: str
    unit: str
    method: Method | None
    agreed_at: date | None  # the date the sign-off says
    agreement_recorded: datetime | None  # when the ledger recorded it
    effect: float | None
    effect_low: float | None
    effect_high: float | None
    std_error: float | None
    value: Money | None
    value_low: Money | None
    value_high: Money | None
    no_interval: str | None  # why the value has no interval
    captured_share: Ratio | None
    validated: bool
    validation_reason: str
    periods: list[MetricPeriod]


@record
class MonthOutcomes:
    month: str  # YYYY-MM
    outcomes: Count
    cost: Money
    cost_per_outcome: Money | None


@record
class SuccessfulOutcomes:
    """Successful outcomes counted, and cost per outcome with its trend over the months."""

    successful_outcomes: Count
    cost_per_outcome: Money | None
    trend: Trend | None
    trend_slope: float | None
    trend_months: int
    by_month: list[MonthOutcomes]


@record
class DecisionRates:
    """What people did with an initiative's decisions, and the rates per decision."""

    decisions: int
    accepted: int
    overridden: int
    escalated: int
    review_minutes: Decimal
    override_rate: Ratio | None
    acceptance_rate: Ratio | None
    escalation_rate: Ratio | None
    review_minutes_per_decision: float | None


@record
class Span:
    period_start: date
    period_end: date  # exclusive


@record
class BehaviourPeriod(DecisionRates, Span):
    """The decisions of one period (its span's fields come first)."""


@record
class Behaviour(DecisionRates):
    """The window's decisions, each period's, and the trend of the override rate."""

    override_rate_trend: Trend | None
    periods: list[BehaviourPeriod]


@record
class QualityDrift:
    """A quality measure's latest score against its PoC reference."""

    measure: str
    reference: float | None
    latest: float | None
    latest_period_start: date | None
    sample_size: int | None
    drop: float | None
    threshold: float
    drifted: bool


@record
class InitiativeReport:
    initiative: InitiativeSummary
    period: Period
    currency: str
    confidence_level: Ratio
    total_cost: Money
    cost_by_category: dict[str, Money]
    value: Money
    value_low: Money | None
    value_high: Money | None
    no_interval: str | None  # why the value has no interval
    roi: Ratio | None
    roi_conservative: Ratio | None  # from value_low
    cumulative_cost: Money  # all history to the window's end
    cumulative_value: Money
    payback_month: str | None  # YYYY-MM
    payback_lapsed: str | None  # an earlier crossing that did not last
    validated: bool
    validation_reason: str
    metrics: list[MetricResult]
    outcomes: SuccessfulOutcomes
    capacity: Capacity | None
    behaviour: Behaviour | None
    quality: list[QualityDrift]


# The portfolio


@record
class UnitCoverage:
    """A business unit's attribution coverage, and its change from the window before (None
    without one: a window open at an end has none)."""

    business_unit: str
    attribution_coverage: Ratio | None
    total_cost: Money
    validated_cost: Money
    previous_attribution_coverage: Ratio | None
    coverage_change: Ratio | None


@record
class InitiativeValue:
    """An initiative's row in the portfolio report."""

    id: str
    name: str
    business_unit: str
    stage: Stage
    state: State
    total_cost: Money
    value: Money
    value_low: Money | None
    value_high: Money | None
    no_interval: str | None
    roi: Ratio | None
    roi_conservative: Ratio | None
    validated: bool
    validation_reason: str
    successful_outcomes: Count
    cost_per_outcome: Money | None


@record
class PortfolioReport:
    """Every initiative's cost, value and ROI, and attribution coverage of all AI cost
    (unallocated included), overall and per business unit."""

    period: Period
    currency: str
    confidence_level: Ratio
    attribution_coverage: Ratio | None
    total_cost: Money
    validated_cost: Money
    unallocated_cost: Money
    unit_overhead_cost: Money
    business_units: list[UnitCoverage]
    initiatives: list[InitiativeValue]
    previous_attribution_coverage: Ratio | None  # None without a window before
    coverage_change: Ratio | None


# The scoreboard


@record
class ScoreLine:
    """A business unit's score (``(all)``: the whole organisation's)."""

    business_unit: str
    attribution_coverage: Ratio | None
    previous_attribution_coverage: Ratio | None
    coverage_change: Ratio | None
    laggards_retired: list[str]  # initiative ids
    cost_per_outcome: Money | None
    previous_cost_per_outcome: Money | None
    cost_per_outcome_falling: bool | None


@record
class ActivityContext:
    """Usage in the window, shown as context only: never rewarded, never ranked."""

    note: str
    requests: int
    tokens: int
    active_users: int | None  # not shown for fewer people than the smallest group


@record
class Scoreboard:
    period: Period
    previous_period: Period | None
    currency: str
    overall: ScoreLine
    business_units: list[ScoreLine]
    context: ActivityContext

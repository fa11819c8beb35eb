"""Reading measured data back: small tables, read whole and analysed in Python, one typed row
per stored row (the columns as ``store.migrations`` declares them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from valuegap.records import record
from valuegap.store.database import Database
from valuegap.store.literals import literal


@record
class Observation:
    """A group's figure for a metric in a period: its mean and spread, or the sum and sum of
    squares they are worked out from."""

    metric: str
    period_start: date
    period_end: date  # periods are [start, end)
    group: str  # treatment | control | all
    phase: str  # before | after
    n: int | None
    mean: float | None
    sd: float | None
    sum: Decimal | None
    sum_sq: Decimal | None
    volume: Decimal | None  # units of work the effect applies to


@record
class OutcomeCount:
    initiative: str
    metric: str  # '' when the count is for no one metric
    period_start: date
    period_end: date
    count: int
    source: str | None  # the system of record


@record
class Decisions:
    """What people did with an initiative's decisions in a period."""

    initiative: str
    period_start: date
    period_end: date
    decisions: int
    accepted: int
    overridden: int
    escalated: int
    review_minutes: Decimal | None


@record
class QualityScore:
    initiative: str
    period_start: date
    period_end: date
    measure: str
    score: float
    sample_size: int
    reference: bool  # the PoC's figure, that drift is measured from


@record
class HoursSaved:
    """An initiative's hours saved in a period, by where they went."""

    initiative: str
    metric: str  # the metric measuring these hours, or ''
    period_start: date
    period_end: date
    redeployed: Decimal
    cost_reduced: Decimal
    not_captured: Decimal


@record
class Retirement:
    initiative: str
    day: date


@record
class Activity:
    """Usage in a window: requests, tokens and distinct pseudonymous users."""

    requests: int
    tokens: int
    users: int


class OutcomeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def observations(self) -> list[Observation]:
        rows = self._db.all(
            'SELECT metric, period_start, period_end, "group", phase, n, mean, sd, sum, sum_sq, '
            'volume FROM observations ORDER BY metric, period_start, "group", phase'
        )
        return [Observation(**row) for row in rows]

    def outcome_counts(self) -> list[OutcomeCount]:
        rows = self._db.all(
            "SELECT initiative, metric, period_start, period_end, count, source "
            "FROM outcome_counts ORDER BY initiative, period_start, metric"
        )
        return [OutcomeCount(**row) for row in rows]

    def behaviour(self) -> list[Decisions]:
        rows = self._db.all(
            "SELECT initiative, period_start, period_end, decisions, accepted, overridden, "
            "escalated, review_minutes FROM behaviour ORDER BY period_start"
        )
        return [Decisions(**row) for row in rows]

    def quality(self) -> list[QualityScore]:
        rows = self._db.all(
            "SELECT initiative, period_start, period_end, measure, score, sample_size, reference "
            "FROM quality ORDER BY period_start"
        )
        return [QualityScore(**row) for row in rows]

    def capacity(self) -> list[HoursSaved]:
        rows = self._db.all(
            "SELECT initiative, metric, period_start, period_end, redeployed, cost_reduced, "
            "not_captured FROM capacity ORDER BY period_start"
        )
        return [HoursSaved(**row) for row in rows]

    def activity(self, start: date | None, end: date | None) -> Activity:
        """Usage in [start, end)."""
        first, after = literal(start), literal(end)
        row = self._db.one(
            "SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0), "
            "count(DISTINCT user_pseudonym) FROM usage_events "
            f"WHERE ({first} IS NULL OR ts >= {first}) AND ({after} IS NULL OR ts < {after})"
        )
        requests, tokens, users = row if row else (0, 0, 0)
        return Activity(int(requests), int(tokens), int(users))

    def retirements(self) -> list[Retirement]:
        rows = self._db.all(
            "SELECT initiative_id AS initiative, CAST(moved_at AS DATE) AS day "
            "FROM stage_history WHERE to_stage = 'retired'"
        )
        return [Retirement(**row) for row in rows]

"""What the outcome reports are made of, as read from the ledger (``Outcomes.facts``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from valuegap.model.portfolio import Initiative
from valuegap.outcomes.evaluation import Convert
from valuegap.store.outcomes import (
    Decisions,
    HoursSaved,
    Observation,
    OutcomeCount,
    QualityScore,
    Retirement,
)


@dataclass(frozen=True)
class MonthCost:
    """Allocated cost of one category, charged to an initiative (or to a unit's overhead, or
    unallocated) of a business unit, in a month, in the reporting currency."""

    initiative: str
    business_unit: str
    category: str
    month: date  # the month's first day
    cost: Decimal


@dataclass(frozen=True)
class Recommendation:
    """What a review recommended for an initiative, as of a day."""

    initiative: str
    as_of: date
    recommendation: str  # scale | continue | fix | kill


@dataclass(frozen=True)
class Facts:
    """The initiatives, their allocated cost by month and their measured data, with the
    settings the reports apply: the reporting currency and its conversion, the confidence
    level, the quality drift threshold and whether uncaptured hours count."""

    initiatives: Sequence[Initiative]
    costs: Sequence[MonthCost]
    observations: Sequence[Observation]
    counts: Sequence[OutcomeCount]
    behaviour: Sequence[Decisions]
    quality: Sequence[QualityScore]
    capacity: Sequence[HoursSaved]
    retirements: Sequence[Retirement]
    convert: Convert
    currency: str
    level: float = 0.95
    drift_threshold: float = 0.05
    count_uncaptured: bool = False
    reviews: Sequence[Recommendation] = ()

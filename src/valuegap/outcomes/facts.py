"""What the outcome reports are made of, and reading it from the ledger (``Outcomes.facts``,
and the adoption reports' unit outcomes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from valuegap.model.portfolio import Initiative
from valuegap.outcomes.evaluation import Convert
from valuegap.records import record
from valuegap.session import Session
from valuegap.store.costs import CostStore
from valuegap.store.governance import GovernanceStore
from valuegap.store.outcomes import (
    Decisions,
    HoursSaved,
    Observation,
    OutcomeCount,
    OutcomeStore,
    QualityScore,
    Retirement,
)
from valuegap.store.portfolio import PortfolioStore

if TYPE_CHECKING:
    from valuegap.costs.api import Costs
    from valuegap.costs.cost_report import CostLine
    from valuegap.portfolio.api import Initiatives

MONTH_COST = ("initiative", "business_unit", "category", "month")


@record
class MonthCost:
    """Allocated cost of one category, charged to an initiative (or to a unit's overhead, or
    unallocated) of a business unit, in a month, in the reporting currency."""

    initiative: str
    business_unit: str
    category: str
    month: date  # the month's first day
    cost: Decimal


@record
class Recommendation:
    """What a review recommended for an initiative, as of a day."""

    initiative: str
    as_of: date
    recommendation: Literal["scale", "continue", "fix", "kill"]
    reasons: tuple[str, ...] = ()


@record
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


def facts_in_scope(session: Session, costs: Costs, initiatives: Initiatives) -> Facts:
    """The facts the actor may read (``Outcomes.facts``): a contributor's hold only their
    business units' initiatives and cost."""
    session.require("read")
    return facts_of(session, costs, initiatives.units_in_scope())


def facts_of(session: Session, costs: Costs, units: tuple[str, ...] | None) -> Facts:
    """The facts of ``units``' initiatives and cost (None: the whole organisation's), kept
    until the next write. Whoever calls this has checked that the actor may read."""
    return session.db.cached(("outcome_facts", units), lambda: _read(session, costs, units))


def _read(session: Session, costs: Costs, units: tuple[str, ...] | None) -> Facts:
    from valuegap.costs.currency import monthly_rates
    from valuegap.costs.scope import units_of

    db = session.db
    store = OutcomeStore(db)
    lines = costs.cost_report(list(MONTH_COST), every_unit=True)  # scoped below
    month_costs = [_month_cost(line) for line in lines]
    reporting = session.settings.reporting_currency
    rates = CostStore(db).rates()
    known: dict[tuple[str, date], Decimal] = {}

    def convert(currency: str, month: date) -> Decimal:
        if currency == reporting:
            return Decimal(1)
        if (currency, month) not in known:
            known.update(monthly_rates([(currency, month)], rates, reporting))
        return known[(currency, month)]

    initiatives = PortfolioStore(db).initiatives()
    if units is not None:  # a contributor: their units' cost, as their units' initiatives
        scope = units_of(db, frozenset(units))
        initiatives = [i for i in initiatives if i.id in scope.initiatives]
        month_costs = [c for c in month_costs if scope.sees(c.business_unit, c.initiative)]
    settings = session.settings
    return Facts(
        initiatives=initiatives,
        costs=month_costs,
        observations=store.observations(),
        counts=store.outcome_counts(),
        behaviour=store.behaviour(),
        quality=store.quality(),
        capacity=store.capacity(),
        retirements=store.retirements(),
        convert=convert,
        currency=reporting,
        level=settings.confidence_level,
        drift_threshold=settings.quality_drift_threshold,
        count_uncaptured=settings.count_uncaptured_capacity,
        reviews=[
            Recommendation(r["initiative"], r["as_of"], r["recommendation"], tuple(r["reasons"]))
            for r in GovernanceStore(db).reviews()
        ],
    )


def _month_cost(line: CostLine) -> MonthCost:
    """A line of the cost report summed by ``MONTH_COST``, each of which every line has."""
    initiative, unit, category, month = (line.dimension(key) or "" for key in MONTH_COST)
    return MonthCost(initiative, unit, category, date.fromisoformat(f"{month}-01"), line.cost)

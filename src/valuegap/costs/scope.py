"""What of the organisation's cost an actor may see. A contributor sees their business units'
cost: the cost booked to their units, and that of their units' initiatives wherever it is
booked (the portfolio report counts the same part, outcomes/facts.py). Everyone else sees it
all. Unallocated cost is no unit's, so it is not in a contributor's part."""

from __future__ import annotations

from valuegap.records import record
from valuegap.session import Session
from valuegap.store.budgets import BudgetStore
from valuegap.store.database import Database
from valuegap.store.portfolio import PortfolioStore


@record
class CostScope:
    """A contributor's part of the cost: their business ``units``, and those units'
    ``initiatives``."""

    units: frozenset[str]
    initiatives: frozenset[str]

    def sees(self, business_unit: object, initiative: object) -> bool:
        """Whether a line of cost booked to ``business_unit`` and ``initiative`` is theirs."""
        return business_unit in self.units or initiative in self.initiatives

    def sees_budget(self, scope: str, value: str) -> bool:
        """Whether a budget on ``scope`` (``initiative``, ``business_unit``, ...) and ``value``
        is theirs: a budget on a provider, a tag or an API key is of the whole organisation."""
        return (scope == "business_unit" and value in self.units) or (
            scope == "initiative" and value in self.initiatives
        )


def budget_ids(db: Database, scope: CostScope) -> set[str]:
    """The ids of the budgets ``scope`` sees: those set on its units and initiatives, and
    those that follow its initiatives' business cases."""
    from valuegap.costs.budget_periods import CASE  # it imports alerts, which import this

    cases = {f"{CASE}{initiative}" for initiative in scope.initiatives}
    return cases | {
        b["id"] for b in BudgetStore(db).all() if scope.sees_budget(b["scope"], b["value"])
    }


def units_of(db: Database, unit_names: frozenset[str]) -> CostScope:
    """The part of the cost of ``unit_names`` and their initiatives."""
    initiatives = {i.id for i in PortfolioStore(db).initiatives() if i.business_unit in unit_names}
    return CostScope(unit_names, frozenset(initiatives))


def cost_scope(session: Session) -> CostScope | None:
    """The part of the cost the session's actor may see; None: all of it."""
    units = session.units_in_scope()
    return None if units is None else units_of(session.db, frozenset(units))

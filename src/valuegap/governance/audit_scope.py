"""Which audit entries a contributor reads: those about their business units' initiatives and
what belongs to them (their agents' decisions, metrics, stage approvals, saved scenarios and
budgets), about their units (statements, chargeback), and every entry about no initiative or
unit (users, policies, prices, allocation rules, ingests). Everyone else reads every entry;
``audit verify`` checks the whole chain whoever asks."""

from __future__ import annotations

from valuegap.costs.budget_periods import CASE
from valuegap.costs.scope import CostScope
from valuegap.store.budgets import BudgetStore
from valuegap.store.database import Database
from valuegap.store.governance import GovernanceStore
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.scenarios import ScenarioStore

# The entity types of entries about an initiative or a business unit.
SCOPED = ("initiative", "agent", "metric", "approval", "scenario", "budget", "business_unit")


def visible_entities(db: Database, scope: CostScope) -> list[str]:
    """The entities of ``SCOPED`` types that are ``scope``'s units and initiatives, or theirs,
    as ``<type>:<entity id>``."""
    theirs = scope.initiatives
    metrics = {metric.id for owner, metric in PortfolioStore(db).metrics() if owner in theirs}
    approvals = {str(a["id"]) for a in GovernanceStore(db).approvals() if a["initiative"] in theirs}
    scenarios = {s["name"] for s in ScenarioStore(db).all() if s["initiative"] in theirs}
    budgets = {f"{CASE}{initiative}" for initiative in theirs} | {
        b["id"] for b in BudgetStore(db).all() if scope.sees_budget(b["scope"], b["value"])
    }
    named = {
        "initiative": theirs,
        "agent": theirs,
        "metric": metrics,
        "approval": approvals,
        "scenario": scenarios,
        "budget": budgets,
        "business_unit": scope.units,
    }
    return sorted(f"{kind}:{name}" for kind, names in named.items() for name in names)

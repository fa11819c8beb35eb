"""Which audit entries a contributor reads: those about their business units' initiatives and
what belongs to them (their agents' decisions, metrics, stage approvals, saved scenarios and
budgets), about their units (statements, chargeback), and those about what every role reads
anyway (users, policies, prices, allocation rules, ingests). Not the removals of cost lines,
whose rows may be any unit's. Everyone else reads every entry; ``audit verify`` checks the
whole chain whoever asks."""

from __future__ import annotations

from valuegap.costs.removal import TABLES
from valuegap.costs.scope import CostScope, budget_ids
from valuegap.store.database import Database
from valuegap.store.governance import GovernanceStore
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.scenarios import ScenarioStore

# The entity types of entries about an initiative or a business unit; a removal of cost lines
# is about the table they were in, and shows its rows.
SCOPED = (
    "initiative",
    "agent",
    "metric",
    "approval",
    "scenario",
    "budget",
    "business_unit",
    *TABLES.values(),
)


def visible_entities(db: Database, scope: CostScope) -> list[str]:
    """The entities of ``SCOPED`` types that are ``scope``'s units and initiatives, or theirs,
    as ``<type>:<entity id>``."""
    theirs = scope.initiatives
    metrics = {metric.id for owner, metric in PortfolioStore(db).metrics() if owner in theirs}
    approvals = {str(a["id"]) for a in GovernanceStore(db).approvals() if a["initiative"] in theirs}
    scenarios = {s["name"] for s in ScenarioStore(db).all() if s["initiative"] in theirs}
    budgets = budget_ids(db, scope)
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

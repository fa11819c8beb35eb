"""An initiative's and a metric's version, the updates that check it, and a contributor's
view of the portfolio: only their business units' initiatives."""

from __future__ import annotations

import pytest

from tests.conftest import ready
from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, Stale
from valuegap.portfolio.api import version


@pytest.fixture
def two_units(ledger: Ledger) -> Ledger:
    ledger.portfolio.add_initiative(ready("triage", business_unit="ops"))
    ledger.portfolio.add_initiative(ready("pricing", business_unit="sales"))
    ledger.governance.users.add_user("cleo", "contributor", ["ops"])
    return ledger


def test_a_metric_changes_only_from_the_version_read(two_units: Ledger) -> None:
    cleo = two_units.acting_as("cleo")
    read = cleo.portfolio.metric("triage-hours")
    seen = version(read)
    assert version(cleo.portfolio.metric("triage-hours")) == seen  # the same state, the same
    changed = cleo.portfolio.update_metric(
        "triage-hours", read.model_copy(update={"target": 20}), expected_version=seen
    )
    assert changed.target == 20 and version(changed) != seen
    with pytest.raises(Stale, match="changed since version"):
        cleo.portfolio.update_metric(
            "triage-hours", read.model_copy(update={"target": 10}), expected_version=seen
        )
    assert cleo.portfolio.metric("triage-hours").target == 20
    updates = [
        e
        for e in two_units.governance.audit.audit_log(entity_id="triage-hours")
        if e.action == "metric.update"
    ]
    assert len(updates) == 1


def test_an_initiative_changes_only_from_the_version_read(two_units: Ledger) -> None:
    current = two_units.portfolio.initiative("triage")
    spec = current.spec().model_copy(update={"hypothesis": "Triage halves handling time."})
    two_units.portfolio.update_initiative("triage", spec, expected_version=version(current))
    with pytest.raises(Stale):
        two_units.portfolio.update_initiative("triage", spec, expected_version=version(current))
    two_units.governance.gates.advance("triage", "poc")  # a stage move is a new version too
    moved = two_units.portfolio.initiative("triage")
    assert version(moved) != version(two_units.portfolio.initiative("pricing"))


def test_a_contributor_sees_only_their_units(two_units: Ledger) -> None:
    cleo = two_units.acting_as("cleo")
    assert [i.id for i in cleo.portfolio.initiatives()] == ["triage"]
    assert [i.id for i in two_units.portfolio.initiatives()] == ["pricing", "triage"]
    assert [m.id for _, m in cleo.portfolio.metrics()] == ["triage-hours"]
    with pytest.raises(NotFound):
        cleo.portfolio.initiative("pricing")
    with pytest.raises(NotFound):
        cleo.portfolio.metric("pricing-hours")
    with pytest.raises(NotFound):
        cleo.governance.gates.advance("pricing", "poc")
    with pytest.raises(PermissionDenied):
        cleo.portfolio.add_initiative(ready("elsewhere", business_unit="sales"))

"""A contributor reads the audit entries about their business units' initiatives and what is
theirs, and those about no initiative or unit; not another unit's initiatives, agents'
decisions or scenarios. ``audit verify`` still checks the whole chain.

On the demo: ana.costa is in marketing (loc-qa), omar.haddad in operations and
customer-service (the refund agent, whose decisions are in the log), lena.fischer in commerce,
risk and engineering (code-review, whose scenario was saved)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.model.audit import AuditEntry

ORGANISATION = {"user", "policy", "ingest", "ledger", "rules"}


@pytest.fixture(scope="module")
def whole(demo: Path) -> Iterator[Ledger]:
    with Ledger.open(demo, actor="you") as ledger:
        yield ledger


def _read(ledger: Ledger, name: str) -> list[AuditEntry]:
    return ledger.acting_as(name).governance.audit.audit_log(limit=10_000)


def test_a_contributor_reads_their_units_entries_and_the_organisations(whole: Ledger) -> None:
    every = whole.governance.audit.audit_log(limit=10_000)
    ana = _read(whole, "ana.costa")
    assert [e.seq for e in ana] == [e.seq for e in every if e in ana]  # in order, unchanged

    loc_qa = {"loc-qa", *(m.id for m in whole.portfolio.initiative("loc-qa").metrics)}
    others = {i.id for i in whole.portfolio.initiatives()} - {"loc-qa"}
    assert [e for e in every if e.entity_id in loc_qa] == [e for e in ana if e.entity_id in loc_qa]
    assert [e for e in every if e.entity_type in ORGANISATION] == [
        e for e in ana if e.entity_type in ORGANISATION
    ]
    assert {e.entity_type for e in every} - {e.entity_type for e in ana} >= {"agent", "scenario"}
    assert not [e for e in ana if e.entity_id in others or e.entity_type == "agent"]
    assert len(ana) < len(every)


def test_another_contributor_reads_their_agents_decisions_and_scenarios(whole: Ledger) -> None:
    every = whole.governance.audit.audit_log(limit=10_000)
    decisions = [e for e in every if e.entity_type == "agent"]
    scenarios = [e for e in every if e.entity_type == "scenario"]
    assert decisions and scenarios
    assert [e for e in _read(whole, "omar.haddad") if e.entity_type == "agent"] == decisions
    assert not [e for e in _read(whole, "omar.haddad") if e.entity_type == "scenario"]
    assert [e for e in _read(whole, "lena.fischer") if e.entity_type == "scenario"] == scenarios
    for name in ("grace.okafor", "finn.berg", "exec.board"):
        assert _read(whole, name) == every


def test_a_contributors_pages_follow_on_and_verify_checks_the_whole_chain(whole: Ledger) -> None:
    ana = whole.acting_as("ana.costa").governance.audit
    pages, before = [], None
    while page := ana.audit_log(limit=7, before=before):
        pages += page
        before = page[-1].seq
    assert pages == ana.audit_log(limit=10_000)
    assert ana.audit_log(entity_id="refund-agent") == []
    verified = ana.verify_audit()
    assert verified.ok and verified.entries == len(whole.governance.audit.audit_log(limit=10_000))


def test_a_removal_of_cost_lines_is_not_in_a_contributors_log(demo_copy: Path) -> None:
    with Ledger.open(demo_copy, actor="you") as ledger:
        found = ledger.session.db.all(
            "SELECT entry_key FROM manual_costs WHERE initiative = 'fraud-detection' LIMIT 1"
        )
        ledger.costs.removal.remove_costs("costs", reason="Twice.", keys=[found[0]["entry_key"]])
        removal = ledger.governance.audit.audit_log(limit=1)[0]
        assert (removal.action, removal.entity_type) == ("costs.remove", "manual_costs")
        assert "fraud-detection" in str(removal.before)
        assert removal not in _read(ledger, "ana.costa")
        assert removal in _read(ledger, "finn.berg")

"""The Ledger's portfolio behaviour: apply, stages, controls, finance sign-off, review date."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, PolicyViolation, ValidationError
from valuegap.governance.api import ControlStatus
from valuegap.portfolio.portfolio_file import parse_portfolio

from .conftest import SteppingClock, ready


def _apply(ledger: Ledger, path: Path) -> dict[str, list[str]]:
    result = ledger.portfolio.apply_file(path)
    return {kind: result.ids(kind) for kind in ("create", "update", "unchanged")}


def _audit_count(ledger: Ledger) -> int:
    return len(ledger.governance.audit.audit_log())


def test_apply_creates_then_changes_nothing(ledger: Ledger, example_portfolio: Path) -> None:
    first = _apply(ledger, example_portfolio)
    assert len(first["create"]) == 7  # 3 initiatives, 4 metrics
    entries = _audit_count(ledger)

    second = _apply(ledger, example_portfolio)
    assert second["create"] == second["update"] == []
    assert len(second["unchanged"]) == 7
    assert _audit_count(ledger) == entries


def test_apply_updates_only_what_changed(ledger: Ledger, example_portfolio: Path) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    changed = example_portfolio.read_text().replace("value_per_unit: 85\n", "value_per_unit: 90\n")
    result = ledger.portfolio.apply(parse_portfolio(changed, "changed.yaml"))
    updates = [c for c in result.changes if c.kind == "update"]
    assert [(c.id, c.fields) for c in updates] == [("loc-qa-hours", ["value_per_unit"])]
    [entry] = ledger.governance.audit.audit_log(limit=1)
    assert (entry.action, entry.entity_id) == ("metric.update", "loc-qa-hours")
    assert '"value_per_unit":"85"' in (entry.before or "")
    assert '"value_per_unit":"90"' in (entry.after or "")


def test_export_then_apply_is_a_no_op(ledger: Ledger, example_portfolio: Path) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    exported = ledger.portfolio.export()
    result = ledger.portfolio.apply(parse_portfolio(exported, "export.yaml"))
    assert {c.kind for c in result.changes} == {"unchanged"}
    assert ledger.portfolio.export() == exported


def test_dry_run_writes_nothing(ledger: Ledger, example_portfolio: Path) -> None:
    result = ledger.portfolio.apply_file(example_portfolio, dry_run=True)
    assert len(result.ids("create")) == 7
    assert ledger.portfolio.initiatives() == []


def test_a_metric_id_cannot_move_between_initiatives(
    ledger: Ledger, example_portfolio: Path
) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    moved = (
        "initiatives: [{id: doc-classifier, name: D, kind: workflow, business_unit: operations,"
        " metrics: [{id: loc-qa-hours, name: QA, unit: h, direction: decrease}]}]"
    )
    with pytest.raises(ValidationError, match="already belongs to initiative 'loc-qa'"):
        ledger.portfolio.apply(parse_portfolio(moved, "moved.yaml"))
    assert ledger.portfolio.initiative("doc-classifier").name == "Inbound document classifier"


def test_changing_an_agreed_method_needs_a_new_agreement(
    ledger: Ledger, example_portfolio: Path
) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    text = example_portfolio.read_text()
    start = text.index("id: loc-qa-hours")
    changed = text[:start] + text[start:].replace("method: before_after", "method: direct", 1)
    with pytest.raises(ValidationError, match="needs a new agreement"):
        ledger.portfolio.apply(parse_portfolio(changed, "c.yaml"))


def test_stages_move_one_at_a_time_and_are_recorded(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(ready("a"))
    ledger.governance.gates.advance("a", "poc")
    with pytest.raises(PolicyViolation, match="the next stage is 'mvp'") as refused:
        ledger.governance.gates.advance("a", "production")
    assert refused.value.rule_ids == ["stage-order"]
    ledger.governance.gates.advance("a", "mvp")
    history = ledger.governance.initiative_detail("a").stage_history
    assert [(h.from_stage, h.to_stage, h.actor) for h in history] == [
        (None, "proposed", "alice"),
        ("proposed", "poc", "alice"),
        ("poc", "mvp", "alice"),
    ]


def test_review_date_is_six_months_after_entering_mvp(db_path: Path) -> None:
    clock = SteppingClock(datetime(2025, 8, 31, 12, 0))
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:
        ledger.portfolio.add_initiative(ready("a", kind="agent"))
        assert ledger.governance.initiative_detail("a").review_date is None
        ledger.governance.gates.advance("a", "poc")
        ledger.governance.gates.advance("a", "mvp")
        # 31 August + 6 months: February has no 31st, so its last day.
        assert ledger.governance.initiative_detail("a").review_date == date(2026, 2, 28)


def test_prohibited_never_leaves_proposed_but_can_be_retired(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative({
        "id": "p", "name": "P", "kind": "use_case", "business_unit": "ops",
        "risk_tier": "prohibited",
    })  # fmt: skip
    with pytest.raises(PolicyViolation) as refused:
        ledger.governance.gates.advance("p", "poc")
    assert refused.value.rule_ids == ["prohibited-stays-proposed"]
    ledger.governance.gates.retire(
        "p", reason="Prohibited practice", learnings="Screen use cases earlier"
    )
    assert ledger.portfolio.initiative("p").stage == "retired"


def test_an_initiative_past_proposed_cannot_become_prohibited(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(ready("a"))
    ledger.governance.gates.advance("a", "poc")
    with pytest.raises(ValidationError, match="cannot be past 'proposed'"):
        ledger.portfolio.apply(parse_portfolio(
            "initiatives: [{id: a, name: A, kind: use_case, business_unit: ops, "
            "risk_tier: prohibited}]", "p.yaml",
        ))  # fmt: skip
    assert ledger.portfolio.initiative("a").risk_tier == "limited"


def test_retiring_needs_reason_and_learnings_and_is_final(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(
        {"id": "a", "name": "A", "kind": "use_case", "business_unit": "ops"}
    )
    with pytest.raises(ValidationError, match="learnings: is required"):
        ledger.governance.gates.retire("a", reason="No adoption", learnings=" ")
    with pytest.raises(
        ValidationError, match=r"to_stage: use `Ledger\.governance\.gates\.retire\(\)`"
    ):
        ledger.governance.gates.advance("a", "retired")
    ledger.governance.gates.retire("a", reason="No adoption", learnings="Measure a baseline first")
    [moved] = ledger.governance.initiative_detail("a").stage_history[-1:]
    assert (moved.reason, moved.learnings) == ("No adoption", "Measure a baseline first")
    with pytest.raises(PolicyViolation, match="retired"):
        ledger.governance.gates.advance("a", "poc")


def test_controls_are_attested_with_evidence(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(
        {"id": "a", "name": "A", "kind": "use_case", "business_unit": "ops"}
    )
    ledger.portfolio.attest_control("a", "sops_updated", "SOP v2 on the intranet")
    controls = ledger.governance.initiative_detail("a").controls
    assert controls["sops_updated"].attested is True
    assert controls["sops_updated"].evidence == "SOP v2 on the intranet"
    assert controls["sops_updated"].attested_by == "alice"
    assert controls["human_authority"] == ControlStatus(attested=False)
    with pytest.raises(ValidationError, match="must be one of"):
        ledger.portfolio.attest_control("a", "vibes_checked", "trust me")


def test_agreeing_a_method_needs_finance(ledger: Ledger, example_portfolio: Path) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    ledger.governance.users.add_user("ana", "contributor", ["marketing"])
    ledger.governance.users.add_user("finn", "finance")
    with pytest.raises(PermissionDenied, match="agree an attribution method"):
        ledger.acting_as("ana").portfolio.agree_metric("loc-qa-errors", by="Ana")
    agreed = ledger.acting_as("finn").portfolio.agree_metric(
        "loc-qa-errors", by="Finn", at=date(2025, 1, 20)
    )
    assert (agreed.agreed_by, agreed.agreed_at) == ("Finn", date(2025, 1, 20))
    [entry] = ledger.governance.audit.audit_log(limit=1)
    assert (entry.actor, entry.action) == ("finn", "metric.agree")


def test_contributor_writes_only_in_its_units(ledger: Ledger) -> None:
    ledger.governance.users.add_user("ana", "contributor", ["marketing"])
    ana = ledger.acting_as("ana")
    ana.portfolio.add_initiative(
        {"id": "m", "name": "M", "kind": "use_case", "business_unit": "marketing"}
    )
    with pytest.raises(PermissionDenied):
        ana.portfolio.add_initiative(
            {"id": "o", "name": "O", "kind": "use_case", "business_unit": "ops"}
        )
    assert [i.id for i in ledger.portfolio.initiatives()] == ["m"]


def test_viewer_reads_but_cannot_write(ledger: Ledger) -> None:
    ledger.governance.users.add_user("vic", "viewer")
    vic = ledger.acting_as("vic")
    assert vic.portfolio.initiatives() == []
    with pytest.raises(PermissionDenied):
        vic.portfolio.add_initiative(
            {"id": "a", "name": "A", "kind": "use_case", "business_unit": "ops"}
        )


def test_unknown_initiative(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match=r"`Ledger\.portfolio\.initiatives\(\)` shows them"):
        ledger.portfolio.initiative("nope")

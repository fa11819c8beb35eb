"""Stage gates through the Ledger: the default pack, layers, approvals, the audit log."""

from __future__ import annotations

import pytest

from valuegap import Ledger
from valuegap.errors import PermissionDenied, PolicyViolation, ValidationError
from valuegap.governance.api import PolicyApplied
from valuegap.model.portfolio import Portfolio
from valuegap.model.vocabulary import CONTROLS

from ..conftest import ready

CONTROL_RULES = [
    "control-role-based-training",
    "control-sops-updated",
    "control-usage-monitoring",
    "control-exception-management",
    "control-human-authority",
]


def _at_mvp(ledger: Ledger, initiative_id: str = "a", **fields: object) -> None:
    ledger.portfolio.add_initiative(ready(initiative_id, **fields))
    ledger.governance.gates.advance(initiative_id, "poc")
    ledger.governance.gates.advance(initiative_id, "mvp")


def _attest_all(ledger: Ledger, initiative_id: str = "a") -> None:
    for control in CONTROLS:
        ledger.portfolio.attest_control(initiative_id, control, "Evidence in the team's wiki")


def test_production_without_the_readiness_controls_is_refused_with_their_five_ids(
    ledger: Ledger,
) -> None:
    _at_mvp(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    with pytest.raises(PolicyViolation) as refused:
        ledger.governance.gates.advance("a", "production")
    assert refused.value.rule_ids == CONTROL_RULES
    assert "control-sops-updated: Attest that the standard operating procedures" in str(
        refused.value
    )
    assert ledger.portfolio.initiative("a").stage == "mvp"
    [entry] = ledger.governance.audit.audit_log(limit=1)
    assert entry.action == "initiative.advance.deny"
    assert all(rule in (entry.after or "") for rule in CONTROL_RULES)

    _attest_all(ledger)
    move = ledger.governance.gates.advance("a", "production")
    assert move.moved and ledger.portfolio.initiative("a").stage == "production"
    assert ledger.governance.audit.verify_audit().ok


def test_finance_must_have_agreed_the_method_before_production(ledger: Ledger) -> None:
    _at_mvp(ledger)
    _attest_all(ledger)
    with pytest.raises(PolicyViolation) as refused:
        ledger.governance.gates.advance("a", "production")
    assert refused.value.rule_ids == ["production-method-agreed"]
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    assert ledger.governance.gates.advance("a", "production").moved


def test_a_high_risk_initiative_waits_for_a_governance_approval(ledger: Ledger) -> None:
    _at_mvp(ledger, risk_tier="high")
    _attest_all(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    ledger.governance.users.add_user("gina", "governance")
    ledger.governance.users.add_user("carl", "contributor", ["ops"])

    waiting = ledger.governance.gates.advance("a", "production")
    assert (waiting.moved, waiting.approval_id) == (False, 1)
    assert waiting.decision.rule_ids == ["production-high-risk-approval"]
    assert ledger.portfolio.initiative("a").stage == "mvp"
    # asking again does not make a second request
    assert ledger.governance.gates.advance("a", "production").approval_id == 1
    [request] = ledger.governance.gates.approvals("pending")
    assert (request.id, request.initiative, request.to_stage, request.status, request.rules) == (
        1, "a", "production", "pending", ["production-high-risk-approval"],
    )  # fmt: skip

    with pytest.raises(PermissionDenied, match="governance or admin"):
        ledger.acting_as("carl").governance.gates.approve(1)
    with pytest.raises(PolicyViolation, match="cannot also grant or refuse"):
        ledger.governance.gates.approve(1)  # alice asked for it: another person decides
    moved = ledger.acting_as("gina").governance.gates.approve(1, note="Model risk reviewed")
    assert moved.moved and ledger.portfolio.initiative("a").stage == "production"
    assert [a.status for a in ledger.governance.gates.approvals()] == ["approved"]
    history = ledger.governance.initiative_detail("a").stage_history[-1]
    assert (history.decision, history.actor) == ("approved", "gina")
    actions = [e.action for e in ledger.governance.audit.audit_log(limit=3)]
    assert actions == ["initiative.advance", "approval.approve",
                       "initiative.advance.require_approval"]  # fmt: skip
    assert ledger.governance.audit.verify_audit().ok


def test_a_contributor_sees_only_the_approval_requests_of_their_units(ledger: Ledger) -> None:
    _at_mvp(ledger, risk_tier="high")  # of business unit ops
    _at_mvp(ledger, "b", business_unit="sales", risk_tier="high")
    _attest_all(ledger)
    _attest_all(ledger, "b")
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    ledger.portfolio.agree_metric("b-hours", by="Finn (Finance)")
    ledger.governance.users.add_user("carl", "contributor", ["ops"])
    ledger.governance.users.add_user("sara", "contributor", ["sales", "ops"])
    ledger.governance.gates.advance("a", "production")
    ledger.governance.gates.advance("b", "production")

    assert [a.initiative for a in ledger.governance.gates.approvals()] == ["a", "b"]
    assert [a.initiative for a in ledger.acting_as("carl").governance.gates.approvals()] == ["a"]
    sara = ledger.acting_as("sara").governance.gates.approvals("pending")
    assert [a.initiative for a in sara] == ["a", "b"]


def test_a_rejected_request_leaves_the_initiative_where_it_was(ledger: Ledger) -> None:
    _at_mvp(ledger, risk_tier="high")
    _attest_all(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    ledger.governance.users.add_user("gina", "governance")
    ledger.governance.gates.advance("a", "production")
    with pytest.raises(ValidationError, match="say why"):
        ledger.acting_as("gina").governance.gates.reject(1, " ")
    rejected = ledger.acting_as("gina").governance.gates.reject(1, "Bias tests first")
    assert (rejected.status, rejected.decided_by, rejected.note) == (
        "rejected", "gina", "Bias tests first",
    )  # fmt: skip
    assert ledger.governance.gates.approvals() == [rejected]
    assert ledger.portfolio.initiative("a").stage == "mvp"
    with pytest.raises(ValidationError, match="already rejected"):
        ledger.acting_as("gina").governance.gates.approve(1)


def test_approving_rechecks_the_gate(ledger: Ledger) -> None:
    _at_mvp(ledger, risk_tier="high")
    _attest_all(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    ledger.governance.users.add_user("gina", "governance")
    ledger.governance.gates.advance("a", "production")
    # the fallback was dropped after the request: the gate now denies
    spec = ledger.portfolio.initiative("a").spec().model_copy(update={"fallback": None})
    ledger.portfolio.apply(Portfolio(initiatives=[spec]))
    with pytest.raises(PolicyViolation, match="the gate now decides deny") as refused:
        ledger.acting_as("gina").governance.gates.approve(1)
    assert refused.value.rule_ids == ["production-fallback"]
    assert ledger.governance.gates.approvals()[0].status == "pending"


def test_a_business_unit_rule_cannot_allow_what_an_enterprise_rule_denies(
    ledger: Ledger,
) -> None:
    _at_mvp(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    relaxed = """\
layer: business_unit
scope: ops
rules:
  - id: ops-fast-track
    when: {transition: mvp->production}
    expr: "true"
    effect: warn
    message: Ops moves fast; training can follow.
"""
    assert ledger.governance.apply_policy(relaxed, "ops.yaml").version == 1
    decision = ledger.governance.gates.gate_check("a", "production")
    assert decision.outcome == "deny"
    assert decision.rule_ids == CONTROL_RULES
    assert {r.policy for r in decision.rules} == {"enterprise"}
    assert decision.policy_versions == {"enterprise": 1, "business_unit/ops": 1}
    # reusing the enterprise rule's id to weaken it is refused at load time
    weakened = relaxed.replace("ops-fast-track", "control-role-based-training")
    with pytest.raises(ValidationError, match="has the id of an enterprise rule"):
        ledger.governance.apply_policy(weakened, "ops.yaml")


def test_an_enterprise_rule_added_later_shadows_a_lower_rule_with_its_id(ledger: Ledger) -> None:
    _at_mvp(ledger)
    ledger.governance.apply_policy("""\
layer: business_unit
scope: ops
rules:
  - id: owner-signed
    when: {transition: mvp->production}
    expr: "true"
    effect: warn
    message: Ops does not ask for this.
""", "ops.yaml")  # fmt: skip
    enterprise = ledger.governance.policies()[0]
    from valuegap.results import to_data
    from valuegap.yamlio import dump_yaml

    stricter = dump_yaml({"layer": "enterprise", "scope": None, "rules": [
        *to_data(enterprise.rules),
        {"id": "owner-signed", "when": {"transition": "mvp->production"},
         "expr": "initiative.owner == 'Board'", "effect": "deny",
         "message": "The board signs every production launch."},
    ]})  # fmt: skip
    assert ledger.governance.apply_policy(stricter, "enterprise.yaml").version == 2
    decision = ledger.governance.gates.gate_check("a", "production")
    assert "owner-signed" in decision.rule_ids
    assert next(r for r in decision.rules if r.id == "owner-signed").policy == "enterprise"
    assert decision.ignored == ["business_unit/ops:owner-signed"]


def test_applying_the_same_policy_again_changes_nothing(ledger: Ledger) -> None:
    text = "layer: business_unit\nscope: ops\nrules: []\n"
    ledger.portfolio.add_initiative(ready("a"))
    assert ledger.governance.apply_policy(text, "ops.yaml") == PolicyApplied(
        "business_unit", "ops", rules=0, version=1, changed=True
    )
    entries = len(ledger.governance.audit.audit_log())
    assert ledger.governance.apply_policy(text, "ops.yaml").changed is False
    assert len(ledger.governance.audit.audit_log()) == entries
    with pytest.raises(ValidationError, match="not a business unit of this ledger"):
        ledger.governance.apply_policy(text.replace("ops", "opps"), "opps.yaml")
    ledger.governance.users.add_user("carl", "contributor", ["ops"])
    with pytest.raises(PermissionDenied, match="may not apply policies"):
        ledger.acting_as("carl").governance.apply_policy(text, "ops.yaml")


def test_retiring_is_always_allowed_and_recorded(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(
        {"id": "b", "name": "B", "kind": "use_case", "business_unit": "ops"}
    )
    with pytest.raises(PolicyViolation) as refused:
        ledger.governance.gates.advance("b", "poc")
    assert refused.value.rule_ids == ["poc-success-metric", "poc-business-owner",
                                      "poc-risk-tier"]  # fmt: skip
    move = ledger.governance.gates.retire(
        "b", reason="No owner came forward", learnings="Name an owner first"
    )
    assert move.moved and move.decision.rule_ids == [
        "review-binds-promotion",
        "retire-reason-and-learnings",
    ]


def test_a_kill_criterion_that_is_not_a_condition_is_refused_when_applied(
    ledger: Ledger,
) -> None:
    with pytest.raises(ValidationError) as refused:
        ledger.portfolio.add_initiative(ready("a", kill_criteria=["roi < ", "acuracy < 0.8"]))
    problems = [str(p) for p in refused.value.problems]
    assert problems[0].startswith("initiatives[0] (a).kill_criteria[0]: syntax error")
    assert problems[1].startswith("initiatives[0] (a).kill_criteria[1] at 1:1: unknown name "
                                  "'acuracy'")  # fmt: skip
    assert ledger.portfolio.initiatives() == []


def test_a_failed_warning_never_blocks_and_is_recorded(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(ready("a"))
    ledger.governance.apply_policy("""\
layer: initiative
scope: a
rules:
  - id: a-sponsor
    when: {transition: "*"}
    expr: initiative.sponsor != null
    effect: warn
    message: Find a sponsor.
""", "a.yaml")  # fmt: skip
    move = ledger.governance.gates.advance("a", "poc")
    assert move.moved and [w.id for w in move.decision.warnings] == ["a-sponsor"]
    recorded = ledger.governance.initiative_detail("a").stage_history[-1].rules
    assert (recorded[-1].id, recorded[-1].held, recorded[-1].effect) == ("a-sponsor", False, "warn")


def test_a_team_cannot_lower_its_risk_tier_to_skip_an_approval(ledger: Ledger) -> None:
    _at_mvp(ledger, risk_tier="high")
    ledger.governance.users.add_user("carl", "contributor", ["ops"])
    spec = ledger.portfolio.initiative("a").spec().model_copy(update={"risk_tier": "limited"})
    with pytest.raises(PermissionDenied, match="may not change risk_tier of a: past 'proposed'"):
        ledger.acting_as("carl").portfolio.apply(Portfolio(initiatives=[spec]))
    assert ledger.portfolio.initiative("a").risk_tier == "high"


def test_a_retirement_that_needs_approval_keeps_its_reason(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(ready("a"))
    ledger.governance.apply_policy("""\
layer: business_unit
scope: ops
rules:
  - id: ops-retire-approval
    when: {transition: "*->retired"}
    expr: "false"
    effect: require_approval
    message: The unit head approves every retirement.
""", "ops.yaml")  # fmt: skip
    waiting = ledger.governance.gates.retire("a", reason="No adoption", learnings="Train first")
    assert waiting.approval_id == 1 and not waiting.moved
    ledger.governance.users.add_user("gina", "governance")
    ledger.acting_as("gina").governance.gates.approve(1)
    last = ledger.governance.initiative_detail("a").stage_history[-1]
    assert (last.to_stage, last.reason, last.learnings) == (
        "retired", "No adoption", "Train first",
    )  # fmt: skip


def test_a_request_is_replaced_when_the_gate_asks_more_and_closed_when_it_moves(
    ledger: Ledger,
) -> None:
    _at_mvp(ledger, risk_tier="high")
    _attest_all(ledger)
    ledger.portfolio.agree_metric("a-hours", by="Finn (Finance)")
    assert ledger.governance.gates.advance("a", "production").approval_id == 1
    ledger.governance.apply_policy("""\
layer: initiative
scope: a
rules:
  - id: a-board
    when: {transition: mvp->production}
    expr: "false"
    effect: require_approval
    message: The board approves it too.
""", "a.yaml")  # fmt: skip
    assert ledger.governance.gates.advance("a", "production").approval_id == 2
    assert [(r.id, r.status) for r in ledger.governance.gates.approvals()] == [
        (1, "withdrawn"), (2, "pending"),
    ]  # fmt: skip
    assert ledger.governance.gates.approvals()[1].rules == [
        "production-high-risk-approval",
        "a-board",
    ]
    ledger.governance.gates.retire("a", reason="Superseded", learnings="Ask the board earlier")
    assert [r.status for r in ledger.governance.gates.approvals()] == ["withdrawn", "withdrawn"]
    with pytest.raises(ValidationError, match="must be one of pending, approved"):
        ledger.governance.gates.approvals("pendng")

"""Stage gates (``ledger.governance.gates``): moving an initiative through its gate, and the
approvals a gate asks for (four eyes; the gate is checked again when a request is approved)."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic.dataclasses import dataclass as pydantic_dataclass

from valuegap.errors import NotFound, PolicyViolation, Problem, ValidationError
from valuegap.governance.policy import Decision, RuleResult, applicable, decide
from valuegap.model.portfolio import Initiative
from valuegap.portfolio import stages
from valuegap.records import record
from valuegap.results import to_data
from valuegap.session import Part, Session
from valuegap.store.governance import GovernanceStore
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.governance.api import Governance
    from valuegap.portfolio.api import Initiatives

APPROVAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")


@record
class StageMove:
    """What asking to move an initiative did: it moved, or it waits for an approval."""

    initiative: str
    from_stage: str
    to_stage: str
    decision: Decision
    approval_id: int | None = None

    @property
    def moved(self) -> bool:
        return self.decision.outcome == "allow"


@pydantic_dataclass(frozen=True)  # JSON names as its parent's
class GateCheck(Decision):
    """What the gate would decide for moving ``initiative`` to ``to_stage`` now: a decision,
    which says what it is about."""

    initiative: str = field(kw_only=True)
    to_stage: str = field(kw_only=True)


@record
class Approval:
    """A request for a governance approval of a stage move, and what became of it."""

    id: int
    initiative: str
    from_stage: str
    to_stage: str
    status: str  # pending | approved | rejected | withdrawn
    rules: list[str]  # the ids of the rules that asked for approval
    policy_versions: dict[str, int]
    reason: str | None  # a retirement's reason and learnings
    learnings: str | None
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    rule_details: list[RuleResult]  # the rules that asked for approval


def _approval(row: dict[str, Any]) -> Approval:
    """An approval request as the store holds it."""
    details = [RuleResult(**rule) for rule in row["rules"]]
    return Approval(**{**row, "rules": [r.id for r in details], "rule_details": details})


class Gates(Part):
    """Moving initiatives through their gates, and the approvals the gates ask for."""

    def __init__(self, session: Session, initiatives: Initiatives, governance: Governance) -> None:
        super().__init__(session)
        self._portfolio = PortfolioStore(session.db)
        self._governance = GovernanceStore(session.db)
        self._initiatives = initiatives
        self._governance_part = governance

    # Stage gates

    def advance(self, initiative_id: str, to_stage: str) -> StageMove:
        """Move an initiative one stage forward if its gate allows; when the gate asks for an
        approval, record a pending request instead. A denied move raises ``PolicyViolation``."""
        if to_stage == "retired":
            raise ValidationError(
                "Retiring is not an advance.",
                [
                    Problem(
                        "to_stage",
                        "use `Ledger.governance.gates.retire()` with a reason and the learnings",
                        to_stage,
                    )
                ],
            )
        return self._move(initiative_id, to_stage)

    def retire(self, initiative_id: str, *, reason: str, learnings: str) -> StageMove:
        problems = [
            Problem(name, "is required when retiring an initiative")
            for name, text in (("reason", reason), ("learnings", learnings))
            if not text.strip()
        ]
        if problems:
            raise ValidationError(f"{initiative_id} was not retired.", problems)
        return self._move(initiative_id, "retired", reason=reason, learnings=learnings)

    @writes
    def _move(
        self,
        initiative_id: str,
        to_stage: str,
        *,
        reason: str | None = None,
        learnings: str | None = None,
    ) -> StageMove:
        initiative = self._initiatives.initiative(initiative_id)
        self._require("stage.move", initiative.business_unit, initiative.id)
        stages.check_move(initiative, to_stage)
        decision = self._gate(initiative, to_stage, reason, learnings)
        move = StageMove(initiative_id, initiative.stage, to_stage, decision)
        with self._db.transaction():
            if decision.outcome == "allow":
                self._moved(initiative, to_stage, decision, reason=reason, learnings=learnings)
                return move
            approval: int | None = None
            replaced: list[int] = []
            if decision.outcome == "require_approval":
                asked = {
                    "initiative": initiative_id, "from_stage": initiative.stage,
                    "to_stage": to_stage, "reason": reason, "learnings": learnings,
                }  # fmt: skip
                approval, replaced = self._ask_approval(asked, decision)
            verb = "retire" if to_stage == "retired" else "advance"
            decided = to_data(decision)
            assert isinstance(decided, dict)  # a result's JSON form is an object
            self._record(
                f"initiative.{verb}.{decision.outcome}",
                "initiative",
                initiative_id,
                {"stage": initiative.stage},
                {
                    "from": initiative.stage,
                    "to": to_stage,
                    **decided,
                    "approval": approval,
                    "approvals_withdrawn": replaced,
                },
                changed=[("approvals", {"initiative": initiative_id})] if approval else [],
            )
        if approval is not None:
            return StageMove(initiative_id, initiative.stage, to_stage, decision, approval)
        raise PolicyViolation(
            f"{initiative_id} cannot move to {to_stage!r}; the gate denies it:\n"
            + rule_lines(decision),
            decision.rule_ids,
        )

    def gate_check(
        self,
        initiative_id: str,
        to_stage: str,
        reason: str | None = None,
        learnings: str | None = None,
    ) -> GateCheck:
        """What the gate would decide for this move now, without moving (a retirement's
        reason and learnings, if the rules for it should see them)."""
        initiative = self._initiatives.initiative(initiative_id)
        stages.check_move(initiative, to_stage)
        decision = self._gate(initiative, to_stage, reason, learnings)
        return GateCheck(
            decision.outcome,
            decision.rules,
            decision.warnings,
            decision.ignored,
            decision.policy_versions,
            decision.approval_rules,
            initiative=initiative_id,
            to_stage=to_stage,
        )

    def _gate(
        self,
        initiative: Initiative,
        to_stage: str,
        reason: str | None = None,
        learnings: str | None = None,
    ) -> Decision:
        rules = applicable(
            self._governance_part._policies(),
            initiative,
            "transition",
            f"{initiative.stage}->{to_stage}",
        )
        move = {
            "from": initiative.stage,
            "to": to_stage,
            "promotion": to_stage != "retired",
            "reason": reason,
            "learnings": learnings,
        }
        return decide(
            rules,
            lambda names: self._governance_part._evaluation_context(
                initiative, names, self._now(), move=move
            ),
        )

    def _ask_approval(self, move: dict[str, Any], decision: Decision) -> tuple[int, list[int]]:
        """The pending request for this move: the one already made if the gate still asks for
        the same approvals, else a new one that replaces the initiative's pending requests
        (whose ids come with it)."""
        same_move = [a for a in self._approvals(status="pending")
                     if (a.initiative, a.from_stage, a.to_stage)
                     == (move["initiative"], move["from_stage"], move["to_stage"])]  # fmt: skip
        asked = sorted(decision.rule_ids)
        for request in same_move:
            if sorted(request.rules) == asked:
                return request.id, []
        replaced = self._governance.withdraw_pending(
            move["initiative"], self._now(), self.actor,
            f"replaced by a new request to move to {move['to_stage']}",
        )  # fmt: skip
        approval = self._governance.add_approval(
            move, to_data(decision.rules), decision.policy_versions, self._now(), self.actor
        )
        return approval, replaced

    # Approvals

    def approvals(self, status: str | None = None) -> list[Approval]:
        """Approval requests, oldest first (all of them, or those with ``status``); a
        contributor sees only those of their business units' initiatives."""
        self._require("read")
        if status not in (None, *APPROVAL_STATUSES):
            allowed = f"must be one of {', '.join(APPROVAL_STATUSES)}"
            raise ValidationError("Unknown approval status.", [Problem("status", allowed, status)])
        visible = {i.id for i in self._initiatives.initiatives()}
        return [a for a in self._approvals(status=status) if a.initiative in visible]

    def decided(self, limit: int) -> list[Approval]:
        """The ``limit`` approval requests decided last, latest first; a contributor's, of
        their business units' initiatives."""
        self._require("read")
        visible = [i.id for i in self._initiatives.initiatives()]
        return [_approval(row) for row in self._governance.decided_approvals(visible, limit)]

    def _approvals(
        self, *, status: str | None = None, approval_id: int | None = None
    ) -> list[Approval]:
        return [
            _approval(row)
            for row in self._governance.approvals(status=status, approval_id=approval_id)
        ]

    @writes
    def approve(self, approval_id: int, note: str | None = None) -> StageMove:
        """Approve a pending stage move and make it, if its gate still only asks for the
        approval that was requested."""
        request = self._pending(approval_id)
        initiative = self._initiatives.initiative(request.initiative)
        if initiative.stage != request.from_stage:
            raise PolicyViolation(
                f"Approval {approval_id} was for a move from {request.from_stage!r}, but "
                f"{initiative.id} is now at {initiative.stage!r}; reject it.",
                [],
            )
        decision = self._gate(initiative, request.to_stage, request.reason, request.learnings)
        asked = set(request.rules)
        if decision.outcome == "deny" or (
            decision.outcome == "require_approval" and not set(decision.rule_ids) <= asked
        ):
            raise PolicyViolation(
                f"{initiative.id} cannot move to {request.to_stage!r} on approval "
                f"{approval_id}: the gate now decides {decision.outcome.replace('_', ' ')}:\n"
                + rule_lines(decision),
                decision.rule_ids,
            )
        now = self._now()
        with self._db.transaction():
            self._governance.decide_approval(approval_id, "approved", now, self.actor, note)
            self._record(
                "approval.approve",
                "approval",
                str(approval_id),
                {"status": "pending"},
                {"status": "approved", "note": note},
                changed=[("approvals", {"id": approval_id})],
            )
            self._moved(initiative, request.to_stage, decision, reason=request.reason,
                        learnings=request.learnings, approval_id=approval_id)  # fmt: skip
        return StageMove(
            initiative.id,
            initiative.stage,
            request.to_stage,
            dataclasses.replace(decision, outcome="allow"),
            approval_id,
        )

    @writes
    def reject(self, approval_id: int, note: str) -> Approval:
        """Reject a pending stage move: the initiative stays where it is. Returns the request,
        rejected."""
        request = self._pending(approval_id)
        if not note.strip():
            raise ValidationError(
                "The approval was not rejected.",
                [Problem("note", "say why, so that the team can act on it")],
            )
        now = self._now()
        with self._db.transaction():
            self._governance.decide_approval(approval_id, "rejected", now, self.actor, note)
            self._record(
                "approval.reject",
                "approval",
                str(approval_id),
                {"status": "pending"},
                {"status": "rejected", "note": note},
                changed=[("approvals", {"id": approval_id})],
            )
        return dataclasses.replace(
            request, status="rejected", decided_at=now, decided_by=self.actor, note=note
        )

    def _pending(self, approval_id: int) -> Approval:
        self._require("approval.decide")
        found = self._approvals(approval_id=approval_id)
        if not found:
            raise NotFound(
                f"There is no approval {approval_id}; `Ledger.governance.gates.approvals()` shows "
                "them."
            )
        request = found[0]
        if request.status != "pending":
            raise ValidationError(
                f"Approval {approval_id} was already {request.status}.",
                [Problem("approval", "only a pending request can be decided", request.status)],
            )
        if request.requested_by == self.actor:
            raise PolicyViolation(
                f"{self.actor} asked for approval {approval_id} and cannot also grant or refuse "
                "it: another member of the governance role decides.",
                ["four-eyes"],
            )
        return request

    def _moved(
        self,
        initiative: Initiative,
        to_stage: str,
        decision: Decision,
        *,
        reason: str | None = None,
        learnings: str | None = None,
        approval_id: int | None = None,
    ) -> None:
        """Record a move the gate allowed (in the caller's transaction)."""
        rules = to_data([*decision.rules, *decision.warnings])
        self._portfolio.set_stage(initiative.id, to_stage)
        self._portfolio.add_stage_event(
            initiative.id,
            initiative.stage,
            to_stage,
            at=self._now(),
            actor=self.actor,
            decision="approved" if approval_id else decision.outcome,
            rules=rules,
            reason=reason,
            learnings=learnings,
        )
        withdrawn = self._governance.withdraw_pending(
            initiative.id, self._now(), self.actor, f"{initiative.id} moved to {to_stage}"
        )
        verb = "retire" if to_stage == "retired" else "advance"
        self._record(
            f"initiative.{verb}",
            "initiative",
            initiative.id,
            {"stage": initiative.stage},
            {
                "from": initiative.stage,
                "to": to_stage,
                "decision": decision.outcome,
                "rules": rules,
                "policy_versions": decision.policy_versions,
                "approval": approval_id,
                "approvals_withdrawn": withdrawn,
                "reason": reason,
                "learnings": learnings,
            },
            changed=[
                ("initiatives", {"id": initiative.id}),
                ("stage_history", {"initiative_id": initiative.id}),
                ("approvals", {"initiative": initiative.id}),
            ],
        )


def rule_lines(decision: Decision) -> str:
    """The rules that decided, a line each with what to do, for an error message; then the
    approvals a denied move would also need once those rules hold."""
    lines = [_rule_line(r) for r in decision.rules]
    if decision.approval_rules:
        lines.append("Once those hold, the move also needs an approval:")
        lines += [_rule_line(r) for r in decision.approval_rules]
    return "\n".join(lines)


def _rule_line(rule: RuleResult) -> str:
    return f"  - {rule.id}: {rule.message}" + (f" ({rule.error})" if rule.error else "")

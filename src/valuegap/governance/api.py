"""The governance half of ``Ledger``: policies, stage gates, approvals and reviews (agents are
in ``agents.py``), and the evaluation context they share."""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from valuegap.errors import NotFound, PolicyViolation, Problem, ValidationError
from valuegap.governance import context as ctx
from valuegap.governance.policy import (
    Decision,
    Policy,
    applicable,
    decide,
    load_policy,
    parse_policy,
)
from valuegap.governance.reviews import Review, recommend
from valuegap.portfolio import stages
from valuegap.portfolio.model import Initiative
from valuegap.settings import Settings
from valuegap.store.database import Database
from valuegap.store.governance import GovernanceStore
from valuegap.store.portfolio import PortfolioStore

DEFAULT_POLICIES = Path(__file__).with_name("default_policies.yaml")
DEFAULT_POLICIES_SOURCE = "valuegap's default policy pack"
REVIEW_EVERY_MONTHS = 6
APPROVAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")


@dataclass(frozen=True)
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


class GovernanceApi:
    _db: Database
    _portfolio: PortfolioStore
    settings: Settings
    actor: str
    _require: Callable[..., None]
    _record: Callable[..., None]
    _now: Callable[[], datetime]
    _facts: Callable[[], Any]
    initiative: Callable[[str], Initiative]
    initiatives: Callable[..., list[Initiative]]
    apply: Callable[..., Any]

    @property
    def _governance(self) -> GovernanceStore:
        return GovernanceStore(self._db)

    # Policies

    def apply_policy_file(self, path: Path) -> dict[str, Any]:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(
                f"{path} cannot be read.", [Problem(str(path), exc.strerror or str(exc))]
            ) from exc
        return self.apply_policy(text, str(path))

    def apply_policy(self, text: str, source: str) -> dict[str, Any]:
        """Validate a policy file whole and make it the new version of its layer and scope.
        Applying the rules in force again changes nothing."""
        self._require("policy.write")
        return self._apply_policy(text, source)

    def _apply_policy(self, text: str, source: str) -> dict[str, Any]:
        in_force = self._policies()
        enterprise = [r.id for p in in_force if p.layer == "enterprise" for r in p.rules]
        policy = parse_policy(text, source, enterprise_ids=enterprise)
        self._check_scope(policy, source)
        scope = policy.scope or ""
        current = next(
            (p for p in in_force if (p.layer, p.scope) == (policy.layer, policy.scope)), None
        )
        result = {"layer": policy.layer, "scope": policy.scope, "rules": len(policy.rules)}
        if current is not None and current.rules_json() == policy.rules_json():
            return {**result, "version": current.version, "changed": False}
        with self._db.transaction():
            version = self._governance.add_policy(
                policy.layer, scope, policy.rules_json(), source, self._now(), self.actor
            )
            self._record(
                "policy.apply",
                "policy",
                policy.key,
                {"version": current.version, "rules": [r.id for r in current.rules]}
                if current
                else None,
                {
                    "version": version,
                    "source": source,
                    "rules": [r.as_dict() for r in policy.rules],
                },
            )
        return {**result, "version": version, "changed": True}

    def _load_default_policies(self) -> None:
        """The default pack as enterprise policy (in the caller's transaction)."""
        self._apply_policy(DEFAULT_POLICIES.read_text(encoding="utf-8"), DEFAULT_POLICIES_SOURCE)

    def policies(self) -> list[Policy]:
        """The policies in force: the newest version of each layer and scope."""
        self._require("read")
        return self._policies()

    def _policies(self) -> list[Policy]:
        return [
            load_policy(r["layer"], r["scope"], r["version"], r["rules"])
            for r in self._governance.current_policies()
        ]

    def policy_versions(self, layer: str, scope: str | None = None) -> list[dict[str, Any]]:
        self._require("read")
        found = self._governance.policy_versions(layer, scope or "")
        if not found:
            raise NotFound(
                f"No policy for {layer}{'/' + scope if scope else ''}; "
                "`valuegap policy list` shows the policies in force."
            )
        return found

    def _check_scope(self, policy: Policy, source: str) -> None:
        if policy.layer == "enterprise":
            return
        initiatives = self._portfolio.initiatives()
        if policy.layer == "initiative" and policy.scope not in {i.id for i in initiatives}:
            raise ValidationError(
                f"{source} was refused; no rule was loaded.",
                [Problem(f"{source}: scope", "is not an initiative of this ledger", policy.scope)],
            )
        units = sorted({i.business_unit for i in initiatives})
        if policy.layer == "business_unit" and policy.scope not in units:
            raise ValidationError(
                f"{source} was refused; no rule was loaded.",
                [
                    Problem(
                        f"{source}: scope",
                        f"is not a business unit of this ledger ({', '.join(units) or 'none yet'})",
                        policy.scope,
                    )
                ],
            )

    # Stage gates

    def gate_check(
        self,
        initiative_id: str,
        to_stage: str,
        reason: str | None = None,
        learnings: str | None = None,
    ) -> Decision:
        """What the gate would decide for this move now, without moving (a retirement's
        reason and learnings, if the rules for it should see them)."""
        initiative = self.initiative(initiative_id)
        stages.check_move(initiative, to_stage)
        return self._gate(initiative, to_stage, reason, learnings)

    def _gate(
        self,
        initiative: Initiative,
        to_stage: str,
        reason: str | None = None,
        learnings: str | None = None,
    ) -> Decision:
        rules = applicable(
            self.policies(), initiative, "transition", f"{initiative.stage}->{to_stage}"
        )
        move = {"from": initiative.stage, "to": to_stage, "reason": reason, "learnings": learnings}
        return decide(rules, lambda names: self._context(initiative, names, self._now(), move=move))

    def _ask_approval(self, move: dict[str, Any], decision: Decision) -> tuple[int, list[int]]:
        """The pending request for this move: the one already made if the gate still asks for
        the same approvals, else a new one that replaces the initiative's pending requests
        (whose ids come with it)."""
        same_move = [a for a in self._governance.approvals(status="pending")
                     if (a["initiative"], a["from_stage"], a["to_stage"])
                     == (move["initiative"], move["from_stage"], move["to_stage"])]  # fmt: skip
        asked = sorted(decision.rule_ids)
        for request in same_move:
            if sorted(r["id"] for r in request["rules"]) == asked:
                return int(request["id"]), []
        replaced = self._governance.withdraw_pending(
            move["initiative"], self._now(), self.actor,
            f"replaced by a new request to move to {move['to_stage']}",
        )  # fmt: skip
        approval = self._governance.add_approval(
            move, [r.as_dict() for r in decision.rules], decision.policy_versions, self._now(),
            self.actor,
        )  # fmt: skip
        return approval, replaced

    # Approvals

    def approvals(self, status: str | None = None) -> list[dict[str, Any]]:
        """Approval requests: ``rules`` holds the ids of the rules that asked for approval,
        ``rule_details`` the rules themselves."""
        self._require("read")
        if status not in (None, *APPROVAL_STATUSES):
            allowed = f"must be one of {', '.join(APPROVAL_STATUSES)}"
            raise ValidationError("Unknown approval status.", [Problem("status", allowed, status)])
        return [
            {**a, "rules": [r["id"] for r in a["rules"]], "rule_details": a["rules"]}
            for a in self._governance.approvals(status=status)
        ]

    def approve(self, approval_id: int, note: str | None = None) -> StageMove:
        """Approve a pending stage move and make it, if its gate still only asks for the
        approval that was requested."""
        request = self._pending(approval_id)
        initiative = self.initiative(request["initiative"])
        if initiative.stage != request["from_stage"]:
            raise PolicyViolation(
                f"Approval {approval_id} was for a move from {request['from_stage']!r}, but "
                f"{initiative.id} is now at {initiative.stage!r}; reject it.",
                [],
            )
        decision = self._gate(
            initiative, request["to_stage"], request["reason"], request["learnings"]
        )
        asked = {r["id"] for r in request["rules"]}
        if decision.outcome == "deny" or (
            decision.outcome == "require_approval" and not set(decision.rule_ids) <= asked
        ):
            raise PolicyViolation(
                f"{initiative.id} cannot move to {request['to_stage']!r} on approval "
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
            )
            self._moved(initiative, request["to_stage"], decision, reason=request["reason"],
                        learnings=request["learnings"], approval_id=approval_id)  # fmt: skip
        return StageMove(
            initiative.id,
            initiative.stage,
            request["to_stage"],
            dataclasses.replace(decision, outcome="allow"),
            approval_id,
        )

    def reject(self, approval_id: int, note: str) -> dict[str, Any]:
        request = self._pending(approval_id)
        if not note.strip():
            raise ValidationError(
                "The approval was not rejected.",
                [Problem("note", "say why, so that the team can act on it")],
            )
        with self._db.transaction():
            self._governance.decide_approval(approval_id, "rejected", self._now(), self.actor, note)
            self._record(
                "approval.reject",
                "approval",
                str(approval_id),
                {"status": "pending"},
                {"status": "rejected", "note": note},
            )
        return {**request, "status": "rejected", "note": note}

    def _pending(self, approval_id: int) -> dict[str, Any]:
        self._require("approval.decide")
        found = self._governance.approvals(approval_id=approval_id)
        if not found:
            raise NotFound(
                f"There is no approval {approval_id}; `valuegap approval list` shows them."
            )
        request = found[0]
        if request["status"] != "pending":
            raise ValidationError(
                f"Approval {approval_id} was already {request['status']}.",
                [Problem("approval", "only a pending request can be decided", request["status"])],
            )
        if request["requested_by"] == self.actor:
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
        rules = [r.as_dict() for r in [*decision.rules, *decision.warnings]]
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
        )

    # Reviews

    def run_reviews(self, as_of: date | None = None) -> list[Review]:
        """Review every initiative whose review date has come, and record the
        recommendations."""
        self._require("review.run")
        today = self._now().date()
        if as_of is not None and as_of > today:
            raise ValidationError("A review is not run ahead of time.", [Problem(
                "--as-of", f"must be today ({today}) or earlier: a review records what was known "
                "then, and sets the next review six months later", str(as_of))])  # fmt: skip
        as_of = as_of or today
        due = [(i, d) for i in self.initiatives() if (d := self.next_review(i.id)) and d <= as_of]
        if not due:
            return []
        facts = self._facts()
        when = datetime.combine(as_of, time())
        reviews = []
        for initiative, review_date in due:
            context = self._context(initiative, frozenset(), when)
            measured, report = self._measured(initiative, when, facts)
            context.update(measured)
            recommendation, reasons = recommend(
                context, report["validation_reason"], self.settings.override_rate_threshold
            )
            reviews.append(
                Review(initiative.id, initiative.stage, review_date, as_of, recommendation, reasons)
            )
        with self._db.transaction():
            for review in reviews:
                self._governance.add_review(review.as_dict(), self._now(), self.actor)
                self._record(
                    "review.record", "initiative", review.initiative, None, review.as_dict()
                )
        return reviews

    def reviews(self, initiative_id: str | None = None) -> list[dict[str, Any]]:
        self._require("read")
        return self._governance.reviews(initiative_id)

    def next_review(self, initiative_id: str) -> date | None:
        """Six months after entering mvp, then six months after each review; none once
        retired or before the MVP."""
        initiative = self.initiative(initiative_id)
        entered = self._portfolio.stages_entered(initiative_id).get("mvp")
        if entered is None or initiative.stage == "retired":
            return None
        first = add_months(entered.date(), REVIEW_EVERY_MONTHS)
        last = self._governance.last_review(initiative_id)
        return first if last is None or last < first else add_months(last, REVIEW_EVERY_MONTHS)

    # The evaluation context

    def _context(
        self, initiative: Initiative, names: frozenset[str], now: datetime, **given: Any
    ) -> dict[str, Any]:
        """The documented context for ``initiative``; the measured names only if ``names``
        needs them."""
        entered = self._portfolio.stages_entered(initiative.id)
        context: dict[str, Any] = {
            "initiative": ctx.initiative_context(
                initiative, list(self._portfolio.attestations(initiative.id)), entered, now
            ),
            "now": now.replace(tzinfo=UTC),
            **given,
        }
        if names & ctx.MEASURED:
            context.update(self._measured(initiative, now, self._facts())[0])
        return context

    def _measured(
        self, initiative: Initiative, now: datetime, facts: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The measured names as of ``now``, and the initiative report they come from."""
        from valuegap.outcomes.periods import Window
        from valuegap.outcomes.reports import initiative_report

        report = initiative_report(facts, initiative, Window(None, now.date()))
        expected = _expected_roi(initiative, self._portfolio.stages_entered(initiative.id), now)
        return ctx.measured_context(initiative, report, expected), report


def _expected_roi(
    initiative: Initiative, entered: Mapping[str, datetime], now: datetime
) -> float | None:
    from valuegap.outcomes.finance import planned_roi

    case, started = initiative.business_case, entered.get("poc")
    if case is None or started is None:
        return None
    ramp = case.adoption_ramp
    months = ctx.months_between(started.date(), now.date())
    return planned_roi(
        case.monthly_investment,
        case.monthly_value_at_full_adoption,
        ramp.ceiling,
        ramp.midpoint_month,
        ramp.steepness,
        months,
    )


def rule_lines(decision: Decision) -> str:
    """The rules that decided, a line each with what to do, for an error message."""
    return "\n".join(
        f"  - {r.id}: {r.message}" + (f" ({r.error})" if r.error else "") for r in decision.rules
    )


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 Aug + 6 = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

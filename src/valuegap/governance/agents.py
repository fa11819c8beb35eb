"""The agents part of the ledger (``ledger.agents``): registering an agent's guardrails, and
deciding whether it may take an action now."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from valuegap.errors import NotFound, PermissionDenied, PolicyViolation, Problem, ValidationError
from valuegap.governance import context as ctx
from valuegap.governance.policy import Decision, RuleResult, applicable, decide
from valuegap.model.portfolio import AgentSpec, Initiative, Portfolio
from valuegap.portfolio.validation import validated
from valuegap.records import record
from valuegap.results import to_data
from valuegap.session import Part, Session, rows_state
from valuegap.store.governance import AskedApproval, GovernanceStore, fits_amount
from valuegap.store.portfolio import INITIATIVE_TABLES, PortfolioStore
from valuegap.store.users import UserStore

if TYPE_CHECKING:
    from valuegap.governance.api import Governance
    from valuegap.portfolio.api import Initiatives
    from valuegap.store.database import Database


AGENT_APPROVAL_STATUSES = ("pending", "approved", "rejected")


@record
class AgentDecision:
    """An agent's action: ``allow``, ``deny`` or ``needs_approval``, the ids of the rules that
    decided, and the decision rule by rule as a gate's (``Decision``) gives it."""

    agent: str
    action: str
    decision: Literal["allow", "deny", "needs_approval"]
    rules: list[str]
    details: list[RuleResult]  # the rules that decided
    warnings: list[RuleResult]
    ignored: list[str]
    policy_versions: dict[str, int]
    # for needs_approval: the request a governance user decides, which the agent polls
    approval_id: int | None = None

    @classmethod
    def of(cls, agent: str, action: str, decision: Decision) -> AgentDecision:
        """``decision`` as the agent's answer: what needs an approval, the agent hands to a
        person (``needs_approval``)."""
        answer = "needs_approval" if decision.outcome == "require_approval" else decision.outcome
        return cls(
            agent,
            action,
            answer,
            decision.rule_ids,
            decision.rules,
            decision.warnings,
            decision.ignored,
            decision.policy_versions,
        )


@record
class AgentApproval:
    """A request for a governance approval of an agent's action, and what became of it:
    ``pending`` until a governance user approves or rejects it."""

    id: int
    agent: str
    action: str
    amount: Decimal | None
    context: dict[str, str]
    status: str  # pending | approved | rejected
    rules: list[str]  # the ids of the rules that asked for approval
    policy_versions: dict[str, int]
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


def _agent_approval(row: dict[str, Any]) -> AgentApproval:
    return AgentApproval(**{**row, "rules": [rule["id"] for rule in row["rules"]]})


def _budget_denial(db: Database, agent_id: str, now: datetime) -> Decision | None:
    """A deny, naming the budget (``budget:<id>``), once the agent's hard-limited budget for
    this period is spent (``costs.budgets``); else None, and the policies decide."""
    from valuegap.costs.budgets import spent_limit

    budget = spent_limit(db, "initiative", agent_id, now.date())
    if budget is None:
        return None
    said = f"the agent's budget {budget} is spent for this period: its hard limit denies"
    return Decision("deny", [RuleResult(f"budget:{budget}", "budget", 0, "deny", said, False)])


def _amount_refused(amount: Decimal) -> str | None:
    """What is wrong with an action's amount, if anything."""
    if not amount.is_finite() or amount < 0:
        return "must be a number, zero or more"
    if not fits_amount(amount):
        return "must be less than 10^28 (the ledger keeps 28 digits before the point)"
    return None


@record
class _Asked:
    """An agent's action, checked (permission, agent, amount) and queued for group commit: the
    batch's leader decides it (``_decide_all``)."""

    agents: Agents
    initiative: Initiative  # an agent's: its ``agent`` is set
    action: str
    amount: Decimal | None
    context: dict[str, str]
    at: datetime  # when it was asked


def _request(asked: _Asked, decision: Decision) -> AskedApproval:
    """The request for approval of ``asked``: the pending one its caller asked for already
    (an agent that asks again polls the same request), else a new one."""
    action = {
        "agent": asked.initiative.id,
        "action": asked.action,
        "amount": asked.amount,
        "context": asked.context,
    }
    return AskedApproval.of(
        action, to_data(decision.rules), decision.policy_versions, asked.at, asked.agents.actor
    )


def _decide_all(
    db: Database, asked: Sequence[_Asked]
) -> list[tuple[AgentDecision, dict[str, Any], dict[str, Any]]]:
    """The decisions of one group-commit batch, made one after another by its leader, and
    the requests of those that need approval in one lookup and one INSERT: for each, its
    answer, its audit entry and the entry's state (its request's row as stored; a decision
    alone changes no table). Made by each caller on its own thread, just woken, a decision
    cost a third more CPU."""
    decided = [each.agents._decision(each) for each in asked]
    asking = {
        index: _request(each, decision)
        for index, (each, (decision, _, result)) in enumerate(zip(asked, decided, strict=True))
        if result.decision == "needs_approval"
    }
    rows = GovernanceStore(db).ask_agent_approvals(list(asking.values())) if asking else []
    requested = dict(zip(asking, rows, strict=True))
    return [
        _answer(result, entry, requested.get(index))
        for index, (_, entry, result) in enumerate(decided)
    ]


def _answer(
    result: AgentDecision, entry: dict[str, Any], request: dict[str, Any] | None
) -> tuple[AgentDecision, dict[str, Any], dict[str, Any]]:
    """A decision's answer, its entry and the entry's state: with its request, if it asked."""
    if request is None:
        return result, entry, {}
    approval = request["id"]
    return (
        dataclasses.replace(result, approval_id=approval),
        {**entry, "approval": approval},
        rows_state([("agent_approvals", {"id": approval}, [request])]),
    )


class Agents(Part):
    """Agents' guardrails, and the decisions on their actions."""

    def __init__(self, session: Session, initiatives: Initiatives, governance: Governance) -> None:
        super().__init__(session)
        self._portfolio = PortfolioStore(session.db)
        self._governance = GovernanceStore(session.db)
        self._users = UserStore(session.db)
        self._initiatives = initiatives
        self._governance_part = governance

    def register_agent(self, initiative_id: str, agent: AgentSpec | Mapping[str, Any]) -> AgentSpec:
        """Set what an agent may do (its initiative must be of kind ``agent``)."""
        if not isinstance(agent, AgentSpec):
            agent = validated(AgentSpec, agent, f"Agent {initiative_id} was not registered.")
        initiative = self._initiatives.initiative(initiative_id)
        if initiative.kind != "agent":
            raise ValidationError(
                f"{initiative_id} was not registered as an agent.",
                [
                    Problem(
                        "kind",
                        "only an initiative of kind 'agent' has agent guardrails",
                        initiative.kind,
                    )
                ],
            )
        self._initiatives.apply(
            Portfolio(initiatives=[initiative.spec().model_copy(update={"agent": agent})])
        )
        return agent

    def authorize(
        self,
        agent_id: str,
        action: str,
        amount: Decimal | None = None,
        context: Mapping[str, str] | None = None,
    ) -> AgentDecision:
        """May this agent take this action now? ``allow``, ``deny`` or ``needs_approval``,
        with the rules that decided; every decision is written to the audit log, durable
        (with the decisions of other callers meanwhile) before it is answered."""
        self._require("agent.act")
        initiative = self._portfolio.initiative(agent_id)
        if initiative is None:
            raise NotFound(
                f"There is no agent {agent_id!r}; an agent is registered with "
                "`Ledger.agents.register_agent()`."
            )
        if initiative.agent is None:
            what = (
                "is not registered as an agent yet (`Ledger.agents.register_agent()`)"
                if initiative.kind == "agent"
                else f"is a {initiative.kind}, not an agent"
            )
            raise NotFound(f"{agent_id} {what}.")
        self._require("agent.act", initiative.business_unit, agent_id)
        refused = None if amount is None else _amount_refused(amount)
        if refused:
            raise ValidationError(
                f"{agent_id} {action} was not decided.", [Problem("amount", refused, str(amount))]
            )
        asked = _Asked(self, initiative, action, amount, dict(context or {}), self._now())
        decision: AgentDecision = self._session.record_small_write(
            "agent.authorize", "agent", agent_id, _decide_all, asked
        )
        return decision

    def _decision(self, asked: _Asked) -> tuple[Decision, dict[str, Any], AgentDecision]:
        """What the rules (or the agent's spent budget) decide of ``asked``, its audit entry,
        and the agent's answer."""
        initiative, action, given = asked.initiative, asked.action, asked.context
        assert initiative.agent is not None, "authorize() queues an agent's action only"
        rules = applicable(self._governance_part._policies(), initiative, "action", action)
        values = {
            "agent": self._agent_context(initiative),
            "action": ctx.action_context(action, asked.amount, given),
        }
        decision = _budget_denial(self._db, initiative.id, asked.at) or decide(
            rules,
            lambda names: self._governance_part._evaluation_context(
                initiative, names, asked.at, **values
            ),
        )
        result = AgentDecision.of(initiative.id, action, decision)
        entry = {
            "action": action,
            "amount": asked.amount,
            "context": given,
            "decision": result.decision,
            "rules": decision.rule_ids,
            "warnings": [r.id for r in decision.warnings],
            "policy_versions": decision.policy_versions,
        }
        return decision, entry, result

    def _agent_context(self, initiative: Initiative) -> dict[str, Any]:
        """The agent's part of the context, kept for its initiative as read until the next
        commit that changes what is cached. Those who read it do not change it."""
        agent = initiative.agent
        assert agent is not None, "authorize() decides an agent's action only"
        return self._db.cached_for(
            "agent_context",
            initiative,
            lambda: ctx.agent_context(initiative, agent),
            INITIATIVE_TABLES,
        )

    # Approvals of agents' actions

    def approval(self, agent_id: str, approval_id: int) -> AgentApproval:
        """An approval request for one of ``agent_id``'s actions, as it stands now: what the
        agent polls until a governance user decides it. A contributor finds only their
        business units' agents' requests."""
        self._require("read")
        found = self._governance.agent_approvals(agent=agent_id, approval_id=approval_id)
        if not self._in_scope(found):  # none, or not in the actor's business units
            raise NotFound(
                f"Agent {agent_id} has no approval request {approval_id}; a decision of "
                "needs_approval names its request."
            )
        return _agent_approval(found[0])

    def approvals(self, status: str | None = None) -> list[AgentApproval]:
        """Approval requests for agents' actions, oldest first (all, or those with
        ``status``); a contributor sees only their business units' agents' requests."""
        self._require("read")
        if status not in (None, *AGENT_APPROVAL_STATUSES):
            allowed = f"must be one of {', '.join(AGENT_APPROVAL_STATUSES)}"
            raise ValidationError("Unknown approval status.", [Problem("status", allowed, status)])
        requests = self._governance.agent_approvals(status=status)
        return [_agent_approval(r) for r in self._in_scope(requests)]

    def _in_scope(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The requests whose agent is in the actor's business units (all, unless a
        contributor)."""
        if self._initiatives.units_in_scope() is None:
            return requests
        visible = {i.id for i in self._initiatives.initiatives()}
        return [r for r in requests if r["agent"] in visible]

    def approve_action(
        self, agent_id: str, approval_id: int, note: str | None = None
    ) -> AgentApproval:
        """Approve a pending request for an agent's action: the agent, polling, may take it."""
        return self._decide(agent_id, approval_id, "approved", note)

    def reject_action(self, agent_id: str, approval_id: int, note: str) -> AgentApproval:
        """Reject a pending request for an agent's action (say why)."""
        if not note.strip():
            raise ValidationError(
                "The request was not rejected.",
                [Problem("note", "say why, so that the agent's team can act on it")],
            )
        return self._decide(agent_id, approval_id, "rejected", note)

    def _decide(
        self, agent_id: str, approval_id: int, status: str, note: str | None
    ) -> AgentApproval:
        self._require("approval.decide")
        with self._db.writing():
            request = self.approval(agent_id, approval_id)
            if request.status != "pending":
                raise ValidationError(
                    f"Approval request {approval_id} was already {request.status}.",
                    [Problem("approval", "only a pending request can be decided", request.status)],
                )
            if request.requested_by == self.actor:
                raise PolicyViolation(
                    f"{self.actor} asked for approval request {approval_id} and cannot also "
                    "decide it: another member of the governance role decides.",
                    ["four-eyes"],
                )
            user = self._users.get(self.actor)
            if user is not None and user.agent is not None:
                raise PermissionDenied(
                    f"{self.actor} is an agent's account; a person decides agents' requests."
                )
            now = self._now()
            with self._db.transaction():
                self._governance.decide_agent_approval(approval_id, status, now, self.actor, note)
                self._record(
                    f"agent.approval.{'approve' if status == 'approved' else 'reject'}",
                    "agent",
                    agent_id,
                    {"approval": approval_id, "status": "pending"},
                    {"approval": approval_id, "status": status, "note": note},
                    changed=[("agent_approvals", {"id": approval_id})],
                )
        return dataclasses.replace(
            request, status=status, decided_at=now, decided_by=self.actor, note=note
        )

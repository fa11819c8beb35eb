"""The agents part of the ledger (``ledger.agents``): registering an agent's guardrails, and
deciding whether it may take an action now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.governance import context as ctx
from valuegap.governance.policy import Decision, RuleResult, applicable, decide
from valuegap.model.portfolio import AgentSpec, Portfolio
from valuegap.portfolio.validation import validated
from valuegap.session import Part, Session
from valuegap.store.portfolio import PortfolioStore

if TYPE_CHECKING:
    from valuegap.governance.api import Governance
    from valuegap.portfolio.api import Initiatives


@dataclass(frozen=True)
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


class Agents(Part):
    """Agents' guardrails, and the decisions on their actions."""

    def __init__(self, session: Session, initiatives: Initiatives, governance: Governance) -> None:
        super().__init__(session)
        self._portfolio = PortfolioStore(session.db)
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
        with the rules that decided; every decision is written to the audit log, and
        committed (with the decisions of other callers meanwhile) before it is answered."""
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
        if amount is not None and (not amount.is_finite() or amount < 0):
            raise ValidationError(f"{agent_id} {action} was not decided.", [
                Problem("amount", "must be a number, zero or more", str(amount))])  # fmt: skip
        now = self._now()
        given = dict(context or {})
        rules = applicable(self._governance_part.policies(), initiative, "action", action)
        values = {
            "agent": ctx.agent_context(initiative, initiative.agent),
            "action": ctx.action_context(action, amount, given),
        }
        decision = decide(
            rules,
            lambda names: self._governance_part._evaluation_context(
                initiative, names, now, **values
            ),
        )
        result = AgentDecision.of(agent_id, action, decision)
        self._session.record_alone(
            "agent.authorize",
            "agent",
            agent_id,
            {
                "action": action,
                "amount": amount,
                "context": given,
                "decision": result.decision,
                "rules": decision.rule_ids,
                "warnings": [r.id for r in decision.warnings],
                "policy_versions": decision.policy_versions,
            },
        )
        return result

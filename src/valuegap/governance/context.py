"""The names a policy rule can use: the documented evaluation context, and how it is built.

``CONTEXT`` is the one description of those names: the name check (``names.py``) refuses a rule
that uses anything else, ``docs/governance.md`` lists the same names (a test holds them
together), and the ``*_context`` functions below build the values. Money is a double (rules
compare amounts, they never add them up): what the ledger measured (``finance``, ``metrics.value``)
is in the reporting currency; what a portfolio file declares keeps its own currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from valuegap.model.portfolio import AgentSpec, Initiative
from valuegap.model.vocabulary import CONTROLS
from valuegap.months import months_between
from valuegap.records import record

if TYPE_CHECKING:
    from valuegap.outcomes.results import InitiativeReport


@record
class Leaf:
    type: str  # string | int | double | bool | timestamp | list(string) | map
    doc: str
    nullable: bool = False


@record
class Node:
    doc: str
    fields: dict[str, Leaf | Node | ListOf] = field(default_factory=dict)


@record
class ListOf:
    doc: str
    item: Node


Schema = Leaf | Node | ListOf

INITIATIVE = Node(
    "The initiative the rule is about (for an agent's action: the agent's initiative).",
    {
        "id": Leaf("string", "its id"),
        "name": Leaf("string", "its name"),
        "kind": Leaf("string", "use_case | workflow | agent"),
        "stage": Leaf("string", "the stage it is at now"),
        "business_unit": Leaf("string", "the business unit that owns it"),
        "owner": Leaf("string", "the business owner", nullable=True),
        "sponsor": Leaf("string", "the sponsor", nullable=True),
        "risk_tier": Leaf("string", "minimal | limited | high | prohibited", nullable=True),
        "controls": Node(
            "true for each readiness control that has been attested",
            {c: Leaf("bool", f"{c} is attested") for c in CONTROLS},
        ),
        "months_in_stage": Leaf("int", "whole months since it entered its current stage"),
        "months_live": Leaf("int", "whole months since it first entered production (0 before)"),
        "kill_criteria": Leaf("list(string)", "its kill criteria, as written"),
        "poc": Node(
            "how its proof of concept was evaluated (false and null until recorded)",
            {
                "evaluated": Leaf("bool", "a PoC evaluation is recorded"),
                "representative_data": Leaf("bool", "on production-representative data"),
                "independent_of_builders": Leaf("bool", "by users other than the builders"),
                "evaluated_by": Leaf("string", "who evaluated it", nullable=True),
                "accuracy": Leaf("double", "the PoC's accuracy (0 to 1)", nullable=True),
                "sample_size": Leaf("int", "how many cases it was measured on", nullable=True),
            },
        ),
        "production_cost_estimate": Leaf(
            "double",
            "estimated monthly inference cost at production volume, in its own currency",
            nullable=True,
        ),
        "human_in_the_loop": Leaf("string", "when people review or override", nullable=True),
        "fallback": Leaf("string", "the fallback path when the AI fails", nullable=True),
        "review": Node(
            "its latest scale-or-kill review (null before its first)",
            {
                "as_of": Leaf(
                    "string", "the day it was reviewed as of (YYYY-MM-DD)", nullable=True
                ),
                "recommendation": Leaf("string", "scale | continue | fix | kill", nullable=True),
            },
        ),
    },
)

METRIC = Node(
    "one success metric",
    {
        "id": Leaf("string", "its id"),
        "name": Leaf("string", "its name"),
        "method": Leaf("string", "direct | before_after | ab_test | diff_in_diff", nullable=True),
        "baseline": Leaf("double", "the baseline's value", nullable=True),
        "baseline_period": Leaf("string", "the period the baseline covers", nullable=True),
        "value_per_unit": Leaf("double", "money per unit, in the metric's currency", nullable=True),
        "agreed": Leaf("bool", "finance agreed the method"),
        "primary": Leaf("bool", "the metric that decides the initiative's validation"),
        "validated": Leaf("bool", "an outcome was validated (PRODUCT.md section 2)"),
        "effect": Leaf("double", "the latest measured effect", nullable=True),
        "value": Leaf("double", "the value measured so far", nullable=True),
    },
)

FINANCE = Node(
    "the initiative's money so far (all periods up to now), in the reporting currency",
    {
        "currency": Leaf("string", "the reporting currency"),
        "total_cost": Leaf("double", "allocated cost so far"),
        "value": Leaf("double", "measured value so far"),
        "value_low": Leaf(
            "double",
            "the conservative value: the lower bound of the value's interval (null without one)",
            nullable=True,
        ),
        "roi": Leaf("double", "(value - cost) / cost", nullable=True),
        "roi_conservative": Leaf("double", "ROI on the conservative value", nullable=True),
        "cost_per_outcome": Leaf("double", "cost per successful outcome", nullable=True),
        "expected_roi": Leaf(
            "double", "the ROI its business case projects for the months so far", nullable=True
        ),
        "expected_roi_low": Leaf(
            "double",
            "the lower edge of the business case's band for the months so far: expected_roi "
            "less the band",
            nullable=True,
        ),
    },
)

BEHAVIOUR = Node(
    "how people treat its decisions so far (null when nothing is measured)",
    {
        "decisions": Leaf("int", "AI decisions or suggestions"),
        "override_rate": Leaf("double", "overridden / decisions", nullable=True),
        "acceptance_rate": Leaf("double", "accepted / decisions", nullable=True),
        "escalation_rate": Leaf("double", "escalated / decisions", nullable=True),
        "review_minutes_per_decision": Leaf("double", "human review time", nullable=True),
    },
)

QUALITY = Node(
    "its quality against the PoC's reference (accuracy, or the first measure recorded)",
    {
        "measure": Leaf("string", "the measure, usually accuracy", nullable=True),
        "latest": Leaf("double", "the latest measured score", nullable=True),
        "reference": Leaf("double", "the PoC's score", nullable=True),
        "drop": Leaf("double", "reference - latest", nullable=True),
        "drifted": Leaf("bool", "the drop is above the drift threshold"),
    },
)

AGENT = Node(
    "the agent asking (rules for agent actions only)",
    {
        "id": Leaf("string", "the agent's initiative id"),
        "objective": Leaf("string", "what it is for"),
        "autonomy": Leaf("string", "suggest | act_with_approval | autonomous"),
        "allowed_actions": Leaf("list(string)", "the actions it may take"),
        "approval_threshold": Leaf("double", "amounts above this need approval", nullable=True),
        "currency": Leaf("string", "the threshold's currency", nullable=True),
        "risk_tier": Leaf("string", "its initiative's risk tier", nullable=True),
    },
)

ACTION = Node(
    "the action an agent asks to take (rules for agent actions only)",
    {
        "name": Leaf("string", "the action"),
        "amount": Leaf("double", "its amount, in the agent's currency", nullable=True),
        "context": Leaf("map", "what the agent passed (--context k=v); guard keys with has()"),
    },
)

MOVE = Node(
    "the stage move asked for (rules for transitions only)",
    {
        "from": Leaf("string", "the stage it is at"),
        "to": Leaf("string", "the stage it would move to"),
        "promotion": Leaf("bool", "to a later stage (a retirement is not one)"),
        "reason": Leaf("string", "why it is retired", nullable=True),
        "learnings": Leaf("string", "what was learnt, when retired", nullable=True),
    },
)

CONTEXT: dict[str, Schema] = {
    "initiative": INITIATIVE,
    "metrics": ListOf("its success metrics", METRIC),
    "finance": FINANCE,
    "behaviour": BEHAVIOUR,
    "quality": QUALITY,
    "agent": AGENT,
    "action": ACTION,
    "move": MOVE,
    "now": Leaf("timestamp", "the time of the decision (UTC)"),
}

TRANSITION_ONLY = frozenset({"move"})
ACTION_ONLY = frozenset({"agent", "action"})
# Names that need the measured facts (costs, outcomes): built only when a rule uses them.
MEASURED = frozenset({"metrics", "finance", "behaviour", "quality"})

# Kill criteria are short: besides the whole context they may use these names on their own.
SHORTCUTS: dict[str, Leaf] = {
    "roi": Leaf("double", "finance.roi", nullable=True),
    "roi_conservative": Leaf("double", "finance.roi_conservative", nullable=True),
    "total_cost": Leaf("double", "finance.total_cost"),
    "value": Leaf("double", "finance.value"),
    "validated": Leaf("bool", "its primary metric is validated"),
    "months_live": Leaf("int", "initiative.months_live"),
    "months_in_stage": Leaf("int", "initiative.months_in_stage"),
    "override_rate": Leaf("double", "behaviour.override_rate", nullable=True),
    "acceptance_rate": Leaf("double", "behaviour.acceptance_rate", nullable=True),
    "escalation_rate": Leaf("double", "behaviour.escalation_rate", nullable=True),
    "accuracy": Leaf("double", "quality.latest (the latest accuracy)", nullable=True),
}


def for_transitions() -> dict[str, Schema]:
    return {k: v for k, v in CONTEXT.items() if k not in ACTION_ONLY}


def for_actions() -> dict[str, Schema]:
    return {k: v for k, v in CONTEXT.items() if k not in TRANSITION_ONLY}


def for_kill_criteria() -> dict[str, Schema]:
    """A review has no move: its names, and the shortcuts."""
    return {**{k: v for k, v in for_transitions().items() if k != "move"}, **SHORTCUTS}


# Building the values.


def initiative_context(
    initiative: Initiative,
    attested: Sequence[str],
    entered: Mapping[str, datetime],
    now: datetime,
    review: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``entered`` maps each stage to when the initiative last entered it; ``review`` is its
    latest review (as_of, recommendation)."""
    poc = initiative.poc_evaluation
    estimate = initiative.production_cost_estimate
    since_stage = entered.get(initiative.stage)
    live = entered.get("production")
    return {
        "id": initiative.id,
        "name": initiative.name,
        "kind": initiative.kind,
        "stage": initiative.stage,
        "business_unit": initiative.business_unit,
        "owner": initiative.owner,
        "sponsor": initiative.sponsor,
        "risk_tier": initiative.risk_tier,
        "controls": {c: c in attested for c in CONTROLS},
        "months_in_stage": months_between(since_stage.date(), now.date()) if since_stage else 0,
        "months_live": months_between(live.date(), now.date()) if live else 0,
        "kill_criteria": list(initiative.kill_criteria),
        "poc": {
            "evaluated": poc is not None,
            "representative_data": bool(poc and poc.representative_data),
            "independent_of_builders": bool(poc and poc.independent_of_builders),
            "evaluated_by": poc.evaluated_by if poc else None,
            "accuracy": poc.accuracy if poc else None,
            "sample_size": poc.sample_size if poc else None,
        },
        "production_cost_estimate": float(estimate.monthly) if estimate else None,
        "human_in_the_loop": initiative.human_in_the_loop,
        "fallback": initiative.fallback,
        "review": {
            "as_of": review["as_of"].isoformat() if review else None,
            "recommendation": review["recommendation"] if review else None,
        },
    }


def measured_context(
    initiative: Initiative,
    report: InitiativeReport,
    expected_roi: float | None,
    expected_roi_low: float | None = None,
) -> dict[str, Any]:
    """``metrics``, ``finance``, ``behaviour`` and ``quality``, from the initiative's report;
    the business case's projected ROI and its band's lower edge for the months so far."""
    behaviour = report.behaviour
    qualities = report.quality
    quality = next((q for q in qualities if q.measure == "accuracy"), None)
    quality = quality or (qualities[0] if qualities else None)
    measured = {m.id: m for m in report.metrics}
    metrics = []
    for spec in initiative.metrics:
        m = measured.get(spec.id)
        baseline = spec.baseline
        metrics.append(
            {
                "id": spec.id,
                "name": spec.name,
                "method": spec.method,
                "baseline": _float(baseline.value) if baseline else None,
                "baseline_period": baseline.period if baseline else None,
                "value_per_unit": _float(spec.value_per_unit),
                "agreed": spec.agreed,
                "primary": m is not None and m.primary,
                "validated": m is not None and m.validated,
                "effect": _float(m.effect) if m else None,
                "value": _float(m.value) if m else None,
            }
        )
    return {
        "metrics": metrics,
        "finance": {
            "currency": report.currency,
            "total_cost": float(report.total_cost),
            "value": float(report.value),
            "value_low": _float(report.value_low),
            "roi": report.roi,
            "roi_conservative": report.roi_conservative,
            "cost_per_outcome": _float(report.outcomes.cost_per_outcome),
            "expected_roi": expected_roi,
            "expected_roi_low": expected_roi_low,
        },
        "behaviour": {
            "decisions": behaviour.decisions if behaviour else 0,
            "override_rate": behaviour.override_rate if behaviour else None,
            "acceptance_rate": behaviour.acceptance_rate if behaviour else None,
            "escalation_rate": behaviour.escalation_rate if behaviour else None,
            "review_minutes_per_decision": (
                _float(behaviour.review_minutes_per_decision) if behaviour else None
            ),
        },
        "quality": {
            "measure": quality.measure if quality else None,
            "latest": quality.latest if quality else None,
            "reference": quality.reference if quality else None,
            "drop": quality.drop if quality else None,
            "drifted": quality is not None and quality.drifted,
        },
    }


def shortcuts(context: Mapping[str, Any]) -> dict[str, Any]:
    """The kill-criteria shortcuts, from a context that holds the measured names."""
    finance, behaviour = context["finance"], context["behaviour"]
    return {
        "roi": finance["roi"],
        "roi_conservative": finance["roi_conservative"],
        "total_cost": finance["total_cost"],
        "value": finance["value"],
        "validated": any(m["validated"] and m["primary"] for m in context["metrics"]),
        "months_live": context["initiative"]["months_live"],
        "months_in_stage": context["initiative"]["months_in_stage"],
        "override_rate": behaviour["override_rate"],
        "acceptance_rate": behaviour["acceptance_rate"],
        "escalation_rate": behaviour["escalation_rate"],
        "accuracy": context["quality"]["latest"],
    }


def agent_context(initiative: Initiative, agent: AgentSpec) -> dict[str, Any]:
    threshold = agent.approval_threshold
    return {
        "id": initiative.id,
        "objective": agent.objective,
        "autonomy": agent.autonomy,
        "allowed_actions": list(agent.allowed_actions),
        "approval_threshold": None if threshold is None else float(threshold),
        "currency": agent.currency,
        "risk_tier": initiative.risk_tier,
    }


def action_context(name: str, amount: Decimal | None, given: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "amount": None if amount is None else float(amount),
            "context": dict(given)}  # fmt: skip


def _float(value: Decimal | float | str | None) -> float | None:
    return None if value is None else float(value)

"""``valuegap agent``: agents' guardrails, and the authorisation of their actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.model.vocabulary import AUTONOMY

app = group("agent")


@command(app, "register")
def register(
    agent_id: Annotated[str, typer.Argument(metavar="ID", help="An initiative of kind agent.")],
    objective: Annotated[str, typer.Option(help="What the agent is for.")],
    allowed_actions: Annotated[
        str, typer.Option(help="The actions it may take, comma-separated: a,b.")
    ],
    autonomy: Annotated[str, typer.Option(help=" | ".join(AUTONOMY))],
    approval_threshold: Annotated[
        Decimal | None,
        typer.Option(parser=parse.decimal, help="An amount above this needs a person's approval."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="The threshold's currency (default: the reporting currency).")
    ] = None,
    success_criterion: Annotated[
        list[str] | None, typer.Option("--success-criterion", help="Repeat for more.")
    ] = None,
) -> None:
    """Register an agent's objective, allowed actions, autonomy and approval threshold."""
    with open_ledger() as ledger:
        agent = {
            "objective": objective,
            "allowed_actions": [a.strip() for a in allowed_actions.split(",") if a.strip()],
            "autonomy": autonomy,
            "approval_threshold": approval_threshold,
            "currency": (currency or ledger.settings.reporting_currency)
            if approval_threshold is not None
            else None,
            "success_criteria": success_criterion or [],
        }
        ledger.agents.register_agent(agent_id, agent)
    typer.echo(f"Agent {agent_id} registered ({autonomy}).")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The registered agents and their guardrails."""
    with open_ledger(read_only=True) as ledger:
        agents = [i for i in ledger.portfolio.initiatives() if i.agent is not None]
    rows = [
        {"id": i.id, "stage": i.stage, "risk_tier": i.risk_tier, **i.agent.model_dump(mode="json")}
        for i in agents
        if i.agent
    ]
    render.records(
        rows,
        fmt,
        title="Agents",
        columns=[
            "id",
            "stage",
            "autonomy",
            "allowed_actions",
            "approval_threshold",
            "currency",
            "risk_tier",
        ],
    )


@command(app, "authorize")
def authorize(
    agent_id: Annotated[str, typer.Argument(metavar="AGENT")],
    action: Annotated[str, typer.Argument(metavar="ACTION")],
    amount: Annotated[
        Decimal | None, typer.Option(parser=parse.decimal, help="The action's amount.")
    ] = None,
    context: Annotated[
        list[str] | None, typer.Option("--context", help="k=v, for the rules; repeat for more.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """May the agent take this action now? allow, deny or needs_approval, with the rules that
    decided; the decision is written to the audit log. Exits 0 whenever a decision was made."""
    given = _pairs(context or [])
    with open_ledger() as ledger:
        decision = ledger.agents.authorize(agent_id, action, amount, given)
    if fmt is not OutputFormat.table:
        render.document(decision, fmt)
        return
    rules = ", ".join(decision.rules) or "no rule applies"
    typer.echo(f"{decision.decision} ({rules})")
    for r in [*decision.details, *decision.warnings]:
        if not r.held:
            typer.echo(f"  - {r.id}: {r.message}" + (f" ({r.error})" if r.error else ""))


def _pairs(items: list[str]) -> dict[str, Any]:
    found = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not k=v", param_hint="--context")
        found[key.strip()] = value
    return found

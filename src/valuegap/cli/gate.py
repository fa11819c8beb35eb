"""``valuegap gate``: what a stage gate would decide, without moving anything."""

from __future__ import annotations

from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.model.vocabulary import STAGES

app = group("gate")


@command(app, "check")
def check(
    initiative_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help=" | ".join(STAGES))],
    reason: Annotated[str | None, typer.Option(help="For --to retired: why.")] = None,
    learnings: Annotated[
        str | None, typer.Option(help="For --to retired: what was learnt.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Evaluate the gate for a move now: allow, deny or require_approval, rule by rule."""
    with open_ledger(read_only=True) as ledger:
        decision = ledger.governance.gates.gate_check(initiative_id, to, reason, learnings)
    if fmt is not OutputFormat.table:
        render.document(decision, fmt)
        return
    typer.echo(f"{initiative_id} -> {to}: {decision.outcome}")
    columns = ["id", "effect", "held", "message", "error"]
    rows = [*decision.rules, *decision.warnings]
    render.records(rows, fmt, columns=columns, title="Rules that decided" if rows else None)
    if decision.approval_rules:
        title = "Approvals it would also need, once the rules above hold"
        render.records(
            decision.approval_rules, fmt, columns=["id", "message", "error"], title=title
        )
    for ignored in decision.ignored:
        typer.echo(f"(no effect: {ignored} has the id of a rule above it)")

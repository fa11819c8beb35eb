"""``valuegap approval``: stage moves waiting for a governance approval."""

from __future__ import annotations

from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("approval")

ApprovalId = Annotated[int, typer.Argument(metavar="ID")]


@command(app, "list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="pending | approved | rejected | withdrawn (default: all)")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Approval requests, oldest first."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.governance.gates.approvals(status)
    render.records(
        rows,
        fmt,
        title="Approvals",
        columns=[
            "id",
            "initiative",
            "from_stage",
            "to_stage",
            "status",
            "rules",
            "requested_by",
            "decided_by",
            "note",
        ],
    )


@command(app, "approve")
def approve(
    approval_id: ApprovalId,
    note: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
) -> None:
    """Approve a pending move; the initiative moves if its gate asks for nothing else."""
    with open_ledger() as ledger:
        move = ledger.governance.gates.approve(approval_id, note)
    typer.echo(
        f"Approval {approval_id} granted: {move.initiative} {move.from_stage} -> {move.to_stage}."
    )


@command(app, "reject")
def reject(
    approval_id: ApprovalId,
    note: Annotated[str, typer.Option(help="Why, so that the team can act on it.")],
) -> None:
    """Reject a pending move; the initiative stays where it is."""
    with open_ledger() as ledger:
        request = ledger.governance.gates.reject(approval_id, note)
    typer.echo(
        f"Approval {approval_id} rejected: {request.initiative} stays at {request.from_stage}."
    )

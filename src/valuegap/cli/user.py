"""``valuegap user``: who may do what."""

from __future__ import annotations

from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="Add users and give them roles (admin only).")


@command(app, "add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    role: Annotated[str, typer.Option(help="viewer | contributor | finance | governance | admin")],
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="A contributor's business unit; repeat for more."),
    ] = None,
) -> None:
    """Add a user, or change an existing user's role and units."""
    with open_ledger() as ledger:
        user = ledger.add_user(name, role, unit or [])
    scope = f" in {', '.join(user.units)}" if user.units else ""
    typer.echo(f"{user.name} is {user.role}{scope}.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """List users and their roles."""
    with open_ledger() as ledger:
        users = ledger.users()
    rows = [{"name": u.name, "role": u.role, "units": list(u.units)} for u in users]
    render.records(rows, fmt, title="Users")

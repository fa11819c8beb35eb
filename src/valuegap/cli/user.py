"""``valuegap user``: who may do what."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("user")


@command(app, "add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    role: Annotated[
        str | None,
        typer.Option(
            help="viewer | contributor | finance | governance | admin (with --agent: "
            "contributor by default)"
        ),
    ] = None,
    unit: Annotated[
        list[str] | None,
        typer.Option("--business-unit", help="A contributor's business unit; repeat for more."),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            help="Make NAME the service account of this agent initiative: it may ask for the "
            "agent's authorisation, never attest, change or judge its own initiative."
        ),
    ] = None,
) -> None:
    """Add a user, or change an existing user's role and units."""
    with open_ledger() as ledger:
        user = ledger.governance.users.add_user(name, role, unit or [], agent=agent)
    scope = f" in {', '.join(user.units)}" if user.units else ""
    acting = f", the account of agent {user.agent}" if user.agent else ""
    typer.echo(f"{user.name} is {user.role}{scope}{acting}.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """List users, their roles, and the agent an agent's account acts for."""
    with open_ledger(read_only=True) as ledger:
        users = ledger.governance.users.users()
    rows = [
        {"name": u.name, "role": u.role, "units": list(u.units), "agent": u.agent} for u in users
    ]
    render.records(rows, fmt, title="Users")


@command(app, "password")
def password(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    from_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a user's password, with which they sign in to the server (an admin, or the user)."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_ledger() as ledger:
        ledger.governance.credentials.set_password(name, secret)
    typer.echo(f"The password of {name} is set; their browser sessions have ended.")

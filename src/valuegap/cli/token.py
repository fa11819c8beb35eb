"""``valuegap token``: API tokens for applications and agents calling the server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("token")

_LENGTH = re.compile(r"^(\d+)([dh])$")


def _expiry(text: str) -> timedelta:
    """``90d`` or ``12h`` as a length of time."""
    found = _LENGTH.match(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise typer.BadParameter(
            f"{text!r} is not a length of time such as 90d or 12h", param_hint="--expires"
        )
    amount, unit = int(found.group(1)), found.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


@command(app, "create")
def create(
    user: Annotated[str, typer.Option(help="The user the token acts as.")],
    expires: Annotated[
        str | None, typer.Option(help="How long it lives, e.g. 90d or 12h (default: forever).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
) -> None:
    """Make a token; it is shown once, now, and never again (only its hash is kept)."""
    expires_in = _expiry(expires) if expires else None
    with open_ledger() as ledger:
        made = ledger.governance.credentials.create_token(user, expires_in=expires_in, label=label)
    until = f", until {made.token.expires_at:%Y-%m-%d %H:%M} UTC" if made.token.expires_at else ""
    typer.echo(f"Token {made.token.id} acts as {user}{until}. It is shown this once:", err=True)
    typer.echo(made.secret)


@command(app, "list")
def list_(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List tokens (never their secrets)."""
    with open_ledger(read_only=True) as ledger:
        tokens = ledger.governance.credentials.tokens(user)
    render.records(tokens, fmt, title="API tokens")


@command(app, "revoke")
def revoke(token_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a token at once."""
    with open_ledger() as ledger:
        token = ledger.governance.credentials.revoke_token(token_id)
    typer.echo(f"Token {token.id} of {token.user} is revoked.")

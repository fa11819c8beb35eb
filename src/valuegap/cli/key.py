"""``valuegap key``: the pseudonymisation key's fingerprint and location, restoring a backup,
rotating it (admin only; the key itself is never shown)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.words import counted

app = typer.Typer(
    help="The key that pseudonymises people: show its fingerprint, restore it, rotate it "
    "(admin only)."
)


@command(app, "show")
def show(fmt: FormatOption = OutputFormat.table) -> None:
    """Where the key is, its fingerprint, and whether the key there is the ledger's."""
    with open_ledger() as ledger:
        status = ledger.governance.keys.key_status()
    render.document(status, fmt, title="Pseudonymisation key")


@command(app, "restore")
def restore(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A backup of the key file.")],
) -> None:
    """Put a backed-up key file back beside the ledger, if its fingerprint is the ledger's."""
    with open_ledger() as ledger:
        status = ledger.governance.keys.restore_key(file)
    typer.echo(f"The key with fingerprint {status.fingerprint} is in place at {status.location}.")


@command(app, "rotate")
def rotate() -> None:
    """Make a new key on purpose; re-key the stored pseudonyms when the old key is in place."""
    with open_ledger() as ledger:
        rotation = ledger.governance.keys.rotate_key()
    status = rotation.status
    typer.echo(f"New key with fingerprint {status.fingerprint} at {status.location}; back it up.")
    if rotation.linked:
        typer.echo(
            f"{counted(rotation.rekeyed, 'stored pseudonym')} re-keyed; people stay linked "
            "across it."
        )
    else:
        typer.echo(
            "The old key was missing: pseudonyms stored before are kept as they are, and people "
            f"ingested from now on are not linked to them (recorded at {status.unlinked_at})."
        )

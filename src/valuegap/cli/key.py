"""``valuegap key``: the pseudonymisation key's fingerprint and location, restoring a backup,
rotating it, moving it out of the ledger's folder (admin only; the key itself is never
shown)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.words import counted

app = group("key")


@command(app, "show")
def show(fmt: FormatOption = OutputFormat.table) -> None:
    """Where the key is, its fingerprint, and whether the key there is the ledger's."""
    with open_ledger(read_only=True) as ledger:
        status = ledger.governance.keys.key_status()
    render.document(status, fmt, title="Pseudonymisation key")
    if fmt is OutputFormat.table and status.move_to is not None:
        typer.echo(
            "A key file is beside the ledger, where a copy or a commit of its folder takes it "
            f"along: `valuegap key move` moves it to {status.move_to}."
        )


@command(app, "restore")
def restore(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A backup of the key file.")],
) -> None:
    """Put a backed-up key file back where the ledger's key is kept, if its fingerprint is the
    ledger's."""
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


@command(app, "move")
def move() -> None:
    """Move a key file left beside the ledger (by an older valuegap) to where keys are kept now,
    outside the ledger's folder; the old file is removed once the new one holds the key."""
    with open_ledger(read_only=True) as ledger:
        destination = ledger.governance.keys.key_status().move_to
        ledger.governance.keys.move_key()
    typer.echo(f"Moved the key file beside the ledger to {destination}.")

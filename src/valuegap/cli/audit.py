"""``valuegap audit``: read the audit log, verify it, and sign checkpoints of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.model.audit import AuditRecord

app = group("audit")


@command(app, "log")
def log(
    entity: Annotated[
        str | None, typer.Option(help="Only entries about this initiative, metric or user.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N entries.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List audit entries, newest first."""
    with open_ledger(read_only=True) as ledger:
        entries = ledger.governance.audit.audit_log(entity_id=entity, limit=limit)
    rows = [AuditRecord.of(entry) for entry in entries]
    columns = ["seq", "recorded_at", "actor", "action", "entity_type", "entity_id"]
    render.records(rows, fmt, columns=columns, title="Audit log")


@command(app, "verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="A file of signed checkpoints: prove that the log extends every one.",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="The public key the checkpoints were signed with (default: that of the "
            "signing key, audit_key).",
        ),
    ] = None,
) -> None:
    """Check the hash chain, the signed checkpoints, and replay the log against the tables;
    exit 1 naming the first entry, row or total that differs."""
    with open_ledger(read_only=True) as ledger:
        result = ledger.governance.audit.verify_audit(checkpoint, public_key)
    if result.ok:
        typer.echo(f"OK: {result.message}.")
        return
    typer.echo(f"TAMPERED: {result.message}.", err=True)
    raise typer.Exit(1)


@command(app, "checkpoint")
def checkpoint(
    to: Annotated[
        str | None,
        typer.Option(
            help="A JSON-lines file to append the checkpoint to, or an http(s) URL to POST it "
            "to (default: the setting checkpoint_to).",
        ),
    ] = None,
) -> None:
    """Sign the log's head with the audit key (not in the ledger file) and deliver it."""
    with open_ledger() as ledger:
        signed, where = ledger.governance.audit.checkpoint(to)
    typer.echo(
        f"Signed entry {signed.seq} (hash {signed.hash[:16]}…) with key {signed.key_id}; {where}."
    )

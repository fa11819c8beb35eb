"""``valuegap audit``: read the audit log and verify its hash chain."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="The tamper-evident audit log: list it, verify it.")


@command(app, "log")
def log(
    entity: Annotated[
        str | None, typer.Option(help="Only entries about this initiative, metric or user.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N entries.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List audit entries, newest first."""
    with open_ledger() as ledger:
        entries = ledger.audit_log(entity_id=entity, limit=limit)
    rows = []
    for entry in entries:
        row = asdict(entry)
        row["before"] = None if entry.before is None else json.loads(entry.before)
        row["after"] = None if entry.after is None else json.loads(entry.after)
        rows.append(row)
    columns = ["seq", "recorded_at", "actor", "action", "entity_type", "entity_id"]
    render.records(rows, fmt, columns=columns, title="Audit log")


@command(app, "verify")
def verify() -> None:
    """Check the hash chain; exit 1 naming the first entry edited, inserted or deleted."""
    with open_ledger() as ledger:
        result = ledger.verify_audit()
    if result.ok:
        typer.echo(f"OK: {result.message}.")
        return
    typer.echo(f"TAMPERED: {result.message}.", err=True)
    raise typer.Exit(1)

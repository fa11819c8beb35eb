"""Commands on the ledger as a whole: ``init``, ``apply``, ``export``, ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import (
    FormatOption,
    OutputFormat,
    command,
    init_ledger,
    open_ledger,
    options,
)


def register(app: typer.Typer) -> None:
    command(app, "init")(init)
    command(app, "apply")(apply)
    command(app, "export")(export)
    command(app, "demo")(demo)


def init() -> None:
    """Create a new, empty ledger; you become its first admin."""
    with init_ledger() as ledger:
        typer.echo(f"Created the ledger {ledger.path}; {ledger.actor} is its admin.")


def apply(
    file: Annotated[Path, typer.Argument(metavar="FILE.yaml", help="A portfolio file.")],
    dry_run: Annotated[bool, typer.Option(help="Show what would change; change nothing.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Create and update initiatives and metrics from a portfolio file, all or nothing.

    Applying the same file again changes nothing. Stages never change here.
    """
    with open_ledger() as ledger:
        result = ledger.portfolio.apply_file(file, dry_run=dry_run)
    rows = [
        {"change": c.kind, "entity": c.entity_type, "id": c.id, "fields": c.fields}
        for c in result.changes
    ]
    if fmt is OutputFormat.json:
        summary = {k: result.ids(k) for k in ("create", "update", "unchanged")}
        render.json({"dry_run": dry_run, **summary, "changes": rows})
        return
    render.records(rows, fmt, title="Would change" if dry_run else "Applied")
    if fmt is OutputFormat.table:
        counts = ", ".join(f"{len(result.ids(k))} {k}d" for k in ("create", "update"))
        left = len(result.ids("unchanged"))
        prefix = "Dry run, nothing written: would have " if dry_run else ""
        typer.echo(f"{prefix}{counts}, {left} left unchanged.")


def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the portfolio as a portfolio file that `apply` reads back unchanged."""
    with open_ledger(read_only=True) as ledger:
        text = ledger.portfolio.export()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}.")


def demo(
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace a demo ledger that has changed since the demo built it (its admin only).",
        ),
    ] = False,
) -> None:
    """Build the sample organisation in a new ledger (default ./valuegap.duckdb)."""
    from valuegap.cli.steps import steps
    from valuegap.demo import build_demo
    from valuegap.settings import acting_user, load_settings

    opts = options()
    settings = load_settings({"db": opts.db})
    with steps("Building the demo") as progress:
        summary = build_demo(
            settings, actor=acting_user(opts.actor), replace=replace, progress=progress
        )
    typer.echo(summary)

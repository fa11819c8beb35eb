"""``valuegap review``: scale-or-kill reviews at each initiative's review date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="Reviews: scale, continue, fix or kill, with reasons.")

COLUMNS = ["initiative", "stage", "due", "recommendation", "reasons"]


@command(app, "run")
def run(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of", parser=parse.iso_date, help="Review as of (YYYY-MM-DD) (default: today)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Review every initiative whose review date has come, and record the recommendations."""
    with open_ledger() as ledger:
        reviews = ledger.governance.run_reviews(as_of)
    rows = [r.as_dict() for r in reviews]
    if fmt is OutputFormat.table:
        for row in rows:
            row["reasons"] = "\n".join(row["reasons"])
    render.records(rows, fmt, columns=COLUMNS, title="Reviews due")


@command(app, "list")
def list_(
    initiative: Annotated[str | None, typer.Option(help="Only this initiative.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The recommendations recorded so far."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.governance.reviews(initiative)
    if fmt is OutputFormat.table:
        for row in rows:
            row["reasons"] = "\n".join(row["reasons"])
    render.records(
        rows,
        fmt,
        columns=["initiative", "as_of", "due", "recommendation", "reasons"],
        title="Reviews",
    )

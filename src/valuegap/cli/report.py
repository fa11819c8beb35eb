"""``valuegap report``: costs by any dimension, and reconciliation with the invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="Reports: costs, reconciliation.")

Month = Annotated[date | None, typer.Option(parser=parse.month, help="YYYY-MM (or YYYY-MM-DD).")]


@command(app, "costs")
def costs(
    by: Annotated[
        str,
        typer.Option(
            help="Comma-separated: initiative, business_unit, category, month, "
            "provider, service, service_category, model, sub_account, source, "
            "tag:<key>."
        ),
    ] = "initiative,month",
    start: Annotated[
        date | None, typer.Option("--from", parser=parse.month, help="First month, YYYY-MM.")
    ] = None,
    end: Annotated[
        date | None, typer.Option("--to", parser=parse.month, help="Month after the last, YYYY-MM.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Allocated cost in the reporting currency; unallocated cost is always shown."""
    keys = [k.strip() for k in by.split(",") if k.strip()]
    with open_ledger() as ledger:
        rows = ledger.cost_report(keys, start, end)
        unpriced = sum(r["events"] for r in ledger.unpriced_usage())
    if fmt is OutputFormat.table:
        rows = [{**row, "cost": f"{row['cost']:,.2f}"} for row in rows]
    render.records(rows, fmt, title="Costs")
    if unpriced:
        typer.echo(
            f"Note: {unpriced:,} usage events have no price and are not in these totals; "
            "`valuegap price unpriced` lists them.",
            err=True,
        )


@command(app, "reconcile")
def reconcile(
    tolerance: Annotated[
        Decimal, typer.Option(parser=parse.decimal, help="Flag gaps above this share.")
    ] = Decimal("0.05"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Computed usage cost against invoiced FOCUS cost, per provider and month."""
    with open_ledger() as ledger:
        rows = ledger.reconcile(tolerance)
    render.records(rows, fmt, title="Reconciliation")

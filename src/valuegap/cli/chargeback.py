"""``valuegap chargeback``: switch a business unit to chargeback, list the units in it, close a
month (finance's)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.decimals import money

app = group("chargeback")

Unit = Annotated[str, typer.Argument(metavar="UNIT", help="The business unit.")]


@command(app, "set")
def set_(
    unit: Unit,
    from_month: Annotated[
        date,
        typer.Option(
            "--from", parser=parse.month, metavar="<YYYY-MM>", help="The first month charged back."
        ),
    ],
    cost_centre: Annotated[str | None, typer.Option(help="The cost centre to book to.")] = None,
) -> None:
    """Switch a business unit to chargeback from a month: its statements of that month on are
    the amounts to book (finance's: cost.write; audit-logged)."""
    with open_ledger() as ledger:
        found = ledger.statements.set_chargeback(unit, from_month, cost_centre)
    centre = f", to cost centre {found.cost_centre}" if found.cost_centre else ""
    typer.echo(f"{found.business_unit} is in chargeback from {found.from_month}{centre}.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The business units in chargeback, from which month, their cost centres and closed
    months."""
    with open_ledger(read_only=True) as ledger:
        units = ledger.statements.chargeback_units()
    render.records(units, fmt, title="Chargeback")


@command(app, "close")
def close(
    unit: Unit,
    month: Annotated[
        date,
        typer.Option(
            parser=parse.month, metavar="<YYYY-MM>", help="The month to close, once it is over."
        ),
    ],
) -> None:
    """Close a month of a business unit once it is over and its statement issued: the
    statement is kept as it is now; a later change to the month's cost is an adjustment in
    the next open month (finance's: cost.write; audit-logged)."""
    with open_ledger() as ledger:
        statement = ledger.statements.close_month(unit, month)
    total = statement.to_book if statement.to_book is not None else statement.cost
    said = "to book" if statement.to_book is not None else "cost"
    typer.echo(
        f"{unit} {month:%Y-%m} is closed ({statement.mode}): "
        f"{said} {money(total, statement.currency)} {statement.currency}."
    )

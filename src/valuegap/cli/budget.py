"""``valuegap budget``: budgets per initiative, business unit, provider, tag or API key; set,
listed, removed, and their spend in a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("budget")


@command(app, "set")
def set_(
    budget_id: Annotated[str, typer.Argument(metavar="ID")],
    scope: Annotated[
        str,
        typer.Argument(help="initiative, business_unit, provider, tag or api_key."),
    ],
    value: Annotated[str, typer.Argument(help="Which one; for a tag, key=value.")],
    amount: Annotated[Decimal, typer.Argument(parser=parse.decimal)],
    currency: Annotated[
        str | None, typer.Option(help="Its currency (default: the reporting currency).")
    ] = None,
    period: Annotated[
        str, typer.Option(help="monthly (each month), or period (--start to --end).")
    ] = "monthly",
    start: Annotated[
        date | None, typer.Option(parser=parse.month, metavar="<YYYY-MM>", help="First month.")
    ] = None,
    end: Annotated[
        date | None, typer.Option(parser=parse.month, metavar="<YYYY-MM>", help="Last month.")
    ] = None,
    threshold: Annotated[
        list[Decimal] | None,
        typer.Option(
            parser=parse.decimal,
            help="A share of the amount that alerts, e.g. 0.8 (repeat; default 0.8 and 1).",
        ),
    ] = None,
    hard_limit: Annotated[
        bool, typer.Option(help="Deny the agent's actions once spent (an agent's or API key's).")
    ] = False,
) -> None:
    """Set a budget (replacing one with its ID)."""
    with open_ledger() as ledger:
        found = ledger.costs.budgets.set_budget(
            budget_id,
            scope,
            value,
            amount,
            currency,
            period=period,
            start=start,
            end=end,
            thresholds=threshold,
            hard_limit=hard_limit,
        )
    typer.echo(f"Budget {found.id} set: {found.amount:f} {found.currency} {found.period}.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """Every budget, those set and those that follow a business case (source)."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.costs.budgets.budgets()
    render.records(rows, fmt, title="Budgets")


@command(app, "remove")
def remove(budget_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove a budget (its alerts stay)."""
    with open_ledger() as ledger:
        ledger.costs.budgets.remove_budget(budget_id)
    typer.echo(f"Budget {budget_id} removed.")


@command(app, "status")
def status(
    budget_id: Annotated[str | None, typer.Argument(metavar="[ID]")] = None,
    on: Annotated[
        date | None,
        typer.Option(
            parser=parse.iso_date,
            metavar="<YYYY-MM-DD>",
            help="The day whose periods to show, as of its end (default: today).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each budget in its period that holds the day: amount, spent, share, thresholds passed."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.costs.budgets.budget_status(budget_id, on)
    render.records(rows, fmt, title="Budgets: spend in the period")

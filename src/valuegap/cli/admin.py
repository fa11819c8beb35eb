"""``valuegap admin``: upkeep of what the ledger derives from its facts."""

from __future__ import annotations

import typer

from valuegap.cli.common import command, open_ledger
from valuegap.cli.program import group
from valuegap.words import counted

app = group("admin")


@command(app, "rebuild")
def rebuild() -> None:
    """Compute the monthly cost and usage aggregates that reports read again from the facts,
    with the allocation settings in force: run it after changing reporting_currency,
    cost_column, token_services or provider_aliases."""
    with open_ledger() as ledger:
        rows = ledger.costs.rebuild_aggregates()
    typer.echo(f"Cost aggregates rebuilt: {counted(rows, 'row')}.")

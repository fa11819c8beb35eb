"""``valuegap price``: organisation price overrides and what cannot be priced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="Token prices: organisation overrides, and usage that cannot be priced.")

Rate = Annotated[Decimal, typer.Option(parser=parse.decimal, help="USD per million tokens.")]
OptionalRate = Annotated[
    Decimal | None, typer.Option(parser=parse.decimal, help="USD per million tokens.")
]


@command(app, "set")
def set_(
    model: Annotated[str, typer.Argument(metavar="MODEL")],
    input_per_mtok: Rate,
    output_per_mtok: Rate,
    valid_from: Annotated[
        date, typer.Option("--from", parser=parse.iso_date, help="In force from (YYYY-MM-DD).")
    ],
    cache_read_per_mtok: OptionalRate = None,
    cache_write_per_mtok: OptionalRate = None,
) -> None:
    """Set a negotiated or self-hosted price; reprices the usage it covers."""
    with open_ledger() as ledger:
        count = ledger.set_price(
            model, input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok,
            valid_from=valid_from, cache_read_per_mtok=cache_read_per_mtok,
            cache_write_per_mtok=cache_write_per_mtok,
        )  # fmt: skip
    typer.echo(f"{model}: priced from {valid_from}; {count:,} events of this model repriced.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The organisation's price overrides."""
    with open_ledger() as ledger:
        rows = ledger.price_overrides()
    render.records(rows, fmt, title="Price overrides")


@command(app, "unpriced")
def unpriced(fmt: FormatOption = OutputFormat.table) -> None:
    """Usage that has no reported cost and no price: never counted as zero silently."""
    with open_ledger() as ledger:
        rows = ledger.unpriced_usage()
    render.records(rows, fmt, title="Unpriced usage")

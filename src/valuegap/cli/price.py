"""``valuegap price``: organisation price overrides, and what cannot be priced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.words import counted

app = group("price")

Rate = Annotated[
    Decimal, typer.Option(parser=parse.decimal, help="Per million tokens, in --currency.")
]
OptionalRate = Annotated[
    Decimal | None,
    typer.Option(parser=parse.decimal, help="Per million tokens, in --currency."),
]
From = Annotated[
    date, typer.Option("--from", parser=parse.iso_date, help="First day it applies (YYYY-MM-DD).")
]
Provider = Annotated[
    str | None,
    typer.Option(help="Only this provider's calls (e.g. openai, aws.bedrock); default: any."),
]


@command(app, "set")
def set_(
    model: Annotated[str, typer.Argument(metavar="MODEL")],
    input_per_mtok: Rate,
    output_per_mtok: Rate,
    valid_from: From,
    valid_to: Annotated[
        date | None,
        typer.Option(
            "--to",
            parser=parse.iso_date,
            help="First day it no longer applies (default: until further notice).",
        ),
    ] = None,
    provider: Provider = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code of the rates.")] = "USD",
    cache_read_per_mtok: OptionalRate = None,
    cache_write_per_mtok: OptionalRate = None,
) -> None:
    """Set a negotiated or self-hosted price; reprices exactly the calls it covers."""
    with open_ledger() as ledger:
        count = ledger.costs.prices.set_price(
            model, input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok,
            valid_from=valid_from, valid_to=valid_to, provider=provider, currency=currency,
            cache_read_per_mtok=cache_read_per_mtok, cache_write_per_mtok=cache_write_per_mtok,
        )  # fmt: skip
    until = f" to {valid_to}" if valid_to else ""
    typer.echo(f"{model}: priced from {valid_from}{until}; {counted(count, 'call')} repriced.")


@command(app, "unset")
def unset(
    model: Annotated[str, typer.Argument(metavar="MODEL")],
    valid_from: From,
    provider: Provider = None,
) -> None:
    """Remove an organisation price: the calls it covered get their catalogue price back."""
    with open_ledger() as ledger:
        count = ledger.costs.prices.unset_price(model, valid_from=valid_from, provider=provider)
    typer.echo(
        f"{model}: the price from {valid_from} is removed; {counted(count, 'call')} repriced."
    )


@command(app, "refresh")
def refresh() -> None:
    """Price every stored call again with the prices and provider aliases in force."""
    with open_ledger() as ledger:
        count = ledger.costs.prices.refresh_prices()
    typer.echo(f"{counted(count, 'call')} repriced.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The organisation's prices, beside the catalogue's price of the same model."""
    with open_ledger(read_only=True) as ledger:
        prices = ledger.costs.prices.price_overrides()
    if fmt is not OutputFormat.table:
        render.records(prices, fmt, title="Price overrides (per million tokens)")
        return
    rows = [  # per million tokens, beside the catalogue's
        {
            "model": p.model,
            "provider": p.provider,
            "from": p.valid_from,
            "to": p.valid_to,
            "input": p.input_per_mtok,
            "output": p.output_per_mtok,
            "catalogue input": p.catalogue_input_per_mtok,
            "catalogue output": p.catalogue_output_per_mtok,
            "currency": p.currency,
        }
        for p in prices
    ]
    render.records(rows, fmt, title="Price overrides (per million tokens)")


@command(app, "unpriced")
def unpriced(fmt: FormatOption = OutputFormat.table) -> None:
    """Usage that has no reported cost and no price, with the reason: never counted as zero
    silently."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.costs.prices.unpriced_usage()
    render.records(rows, fmt, title="Unpriced usage")

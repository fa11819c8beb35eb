"""``valuegap alert``: the alerts spend control raised, and their delivery to webhooks."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("alert")


@command(app, "list")
def list_(
    kind: Annotated[
        str | None, typer.Option(help="budget_threshold, forecast_overrun or spend_anomaly.")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="e.g. budget:ID.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the newest N.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The alerts raised, newest first, with each webhook's delivery state."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.costs.alerts.alerts(kind, subject, limit)
    render.records(rows, fmt, title="Alerts")


@command(app, "check")
def check(
    on: Annotated[
        date | None,
        typer.Option(
            parser=parse.iso_date,
            metavar="<YYYY-MM-DD>",
            help="Check as of this day (default: today).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Raise the alerts of this month's forecast overruns and the last week's spend anomalies
    (each once); run it from a scheduler, as the server does every hour."""
    with open_ledger() as ledger:
        rows = ledger.costs.alerts.check(on)
    if not rows:
        typer.echo("No new alert.")
        return
    render.records(rows, fmt, title="Alerts raised")


@command(app, "deliver")
def deliver(fmt: FormatOption = OutputFormat.table) -> None:
    """Send the deliveries still pending (a webhook that failed before) and show them."""
    with open_ledger() as ledger:
        rows = ledger.costs.alerts.deliver()
    if not rows:
        typer.echo("No delivery was pending.")
        return
    render.records(rows, fmt, title="Alerts delivered")

"""``valuegap metric``: define success metrics, record finance's agreement, list them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.model.vocabulary import DIRECTIONS, METHODS

app = group("metric")

LIST_COLUMNS = [
    "initiative",
    "id",
    "name",
    "unit",
    "direction",
    "baseline",
    "target",
    "value_per_unit",
    "currency",
    "method",
    "agreed_by",
    "agreed_at",
]
DecimalOption = Annotated[Decimal | None, typer.Option(parser=parse.decimal)]


@command(app, "define")
def define(
    initiative_id: Annotated[str, typer.Argument(metavar="INITIATIVE")],
    metric_id: Annotated[str, typer.Argument(metavar="METRIC_ID", help="A slug, e.g. qa-hours.")],
    name: Annotated[str, typer.Option()],
    unit: Annotated[str, typer.Option(help="The unit it is measured in, e.g. hours/month.")],
    direction: Annotated[str, typer.Option(help=" | ".join(DIRECTIONS))],
    baseline: Annotated[
        Decimal | None, typer.Option(parser=parse.decimal, help="The baseline value.")
    ] = None,
    baseline_period: Annotated[str | None, typer.Option(help="e.g. 2025-H2.")] = None,
    baseline_source: Annotated[str | None, typer.Option(help="Where it comes from.")] = None,
    target: DecimalOption = None,
    value_per_unit: Annotated[
        Decimal | None,
        typer.Option(parser=parse.decimal, help="Money per unit of improvement."),
    ] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217, e.g. USD.")] = None,
    volume_basis: Annotated[
        str | None, typer.Option(help="The unit of work the effect is per, e.g. ticket.")
    ] = None,
    method: Annotated[str | None, typer.Option(help=" | ".join(METHODS))] = None,
) -> None:
    """Define a success metric of an initiative."""
    metric: dict[str, object] = {
        "id": metric_id,
        "name": name,
        "unit": unit,
        "direction": direction,
        "target": target,
        "value_per_unit": value_per_unit,
        "currency": currency,
        "volume_basis": volume_basis,
        "method": method,
    }
    if baseline is not None or baseline_period is not None or baseline_source is not None:
        metric["baseline"] = {
            "value": baseline,
            "period": baseline_period,
            "source": baseline_source,
        }
    with open_ledger() as ledger:
        ledger.portfolio.define_metric(initiative_id, metric)
    typer.echo(f"Defined metric {metric_id} of {initiative_id}.")


@command(app, "agree")
def agree(
    metric_id: Annotated[str, typer.Argument(metavar="METRIC_ID")],
    by: Annotated[str, typer.Option("--by", help="Who in finance agreed the method.")],
    at: Annotated[
        date | None,
        typer.Option(
            "--at",
            parser=parse.iso_date,
            help="The date of a paper sign-off (YYYY-MM-DD, today or earlier); default today. "
            "'Agreed in advance' is judged by when the ledger records it.",
        ),
    ] = None,
) -> None:
    """Record finance's agreement to a metric's attribution method (needs the finance role)."""
    with open_ledger() as ledger:
        agreed = ledger.portfolio.agree_metric(metric_id, by=by, at=at)
    recorded = agreed.agreement_recorded
    typer.echo(
        f"{metric_id}: method {agreed.method} agreed by {by} on {agreed.agreed_at}"
        + (f", recorded {recorded:%Y-%m-%d %H:%M} UTC." if recorded else ".")
    )


@command(app, "list")
def list_(
    initiative_id: Annotated[
        str | None, typer.Option("--initiative", help="Only this initiative's metrics.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List success metrics with their methods and finance sign-off."""
    with open_ledger(read_only=True) as ledger:
        pairs = ledger.portfolio.metrics(initiative_id)
    rows = [{"initiative": owner, **m.model_dump(mode="json")} for owner, m in pairs]
    if fmt is OutputFormat.table:
        for row in rows:
            if row["baseline"]:
                row["baseline"] = f"{row['baseline']['value']} ({row['baseline']['period']})"
    render.records(rows, fmt, columns=LIST_COLUMNS, title="Success metrics")

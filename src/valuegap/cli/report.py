"""``valuegap report``: costs by any dimension, reconciliation with the invoices, value (one
initiative, the portfolio, the J-curve, the scoreboard), a business unit's statement, spend
control (forecasts and anomalies), and adoption (the ladder, the conviction distance)."""

from __future__ import annotations

import dataclasses
import enum
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.cli.render import ExactOption
from valuegap.cli.source import EngineOption, synced
from valuegap.outcomes.periods import window
from valuegap.results import kinds
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.costs.spend_results import DrivingLine

app = group("report")

Period = Annotated[
    str | None,
    typer.Option(
        parser=parse.period,
        help="A year, half, quarter or month: 2026, 2026-H1, 2026-Q1, 2026-03.",
    ),
]
From = Annotated[
    date | None,
    typer.Option("--from", parser=parse.month, metavar="<YYYY-MM>", help="The first month."),
]
To = Annotated[
    date | None,
    typer.Option("--to", parser=parse.month, metavar="<YYYY-MM>", help="The month after the last."),
]
SeriesBy = Annotated[
    str,
    typer.Option(help="Comma-separated: initiative, business_unit, provider, model."),
]
# The money and ratio fields of the outcome reports, which are mappings: a typed result
# declares its own (results.Money, results.Ratio).


@command(app, "costs")
def costs(
    by: Annotated[
        str,
        typer.Option(
            help="Comma-separated: initiative, business_unit, category, month, "
            "provider, service, service_category, model, sub_account, source, basis "
            "(invoiced, estimated, manual), tag:<key>."
        ),
    ] = "initiative,month",
    start: From = None,
    end: To = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
    engine: EngineOption = None,
) -> None:
    """Cost in the reporting currency, each dollar once: invoices, manual costs, and usage no
    invoice covers yet (estimated); the usage events' own cost beside. Unallocated cost is
    always shown. External sources are synced first, on the engine."""
    keys = [k.strip() for k in by.split(",") if k.strip()]
    with synced(engine) as ledger:
        lines = ledger.costs.cost_report(keys, start, end)
        unpriced = sum(u.events for u in ledger.costs.prices.unpriced_usage())
    rows = [line.summed_by(keys) for line in lines]
    render.records(rows, fmt, title="Costs", exact=exact, kinds=kinds(lines))
    if unpriced:
        typer.echo(
            f"Note: these totals leave out {counted(unpriced, 'usage event')} without a price; "
            "`valuegap price unpriced` lists the usage no price covers.",
            err=True,
        )


@command(app, "reconcile")
def reconcile(
    tolerance: Annotated[
        Decimal, typer.Option(parser=parse.decimal, help="Flag gaps above this share.")
    ] = Decimal("0.05"),
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """Computed usage cost against the invoiced token services, per provider and month, like
    for like, with what explains the gap."""
    with open_ledger(read_only=True) as ledger:
        lines = ledger.costs.reconcile(tolerance)
    if fmt is not OutputFormat.table:
        render.records(lines, fmt, title="Reconciliation")
        return
    rows = [
        {
            "provider": line.provider,
            "month": line.month,
            "invoiced": line.invoiced,
            "list_cost": line.list_cost,
            "computed": line.computed,
            "reported": line.reported,
            "gap": line.gap,
            "status": line.status,
            "explanation": " ".join(line.explanation),
            "currency": line.currency,
        }
        for line in lines
    ]
    render.records(rows, fmt, title="Reconciliation", exact=exact, kinds=kinds(lines))


@command(app, "forecast")
def forecast(
    by: SeriesBy = "initiative",
    month: Annotated[
        date | None,
        typer.Option(parser=parse.month, metavar="<YYYY-MM>", help="The month (default: this)."),
    ] = None,
    months: Annotated[
        int, typer.Option(min=1, max=120, help="The months of the period, from --month.")
    ] = 1,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=parse.iso_date,
            metavar="<YYYY-MM-DD>",
            help="Forecast from the days before this one (default: today).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """Spend by the period's end: what the days so far cost, the days left at the weekday and
    weekend rates of the last four weeks, and manual costs as entered, with a 90 % interval;
    by initiative, against its business case's planned investment (within_plan,
    planned_overrun: the J-curve expected it, over_plan)."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.costs.spend.forecast(by.split(","), month, months, as_of)
    if fmt is OutputFormat.json:
        render.document(report, fmt)
        return
    named: dict[str, Any] = {report.by[0]: "(total)"}
    total = dataclasses.replace(report.total, **named)
    columns = [
        *report.by,
        "spent",
        "manual",
        "forecast",
        "low",
        "high",
        "planned",
        "status",
        "currency",
    ]
    days = counted(report.days_left, "day")
    period = f"{report.start:%Y-%m}" + (f" to {report.end:%Y-%m}" if months > 1 else "")
    title = f"Forecast {period} (as of {report.today}, {days} left)"
    render.records(
        [*report.lines, total],
        fmt,
        columns=columns,
        title=title,
        exact=exact,
        kinds=kinds(report.lines),
    )


@command(app, "anomalies")
def anomalies(
    by: SeriesBy = "initiative",
    since: Annotated[
        date | None,
        typer.Option(
            parser=parse.iso_date,
            metavar="<YYYY-MM-DD>",
            help="The first day to look at (default: 7 days before --until).",
        ),
    ] = None,
    until: Annotated[
        date | None,
        typer.Option(
            parser=parse.iso_date,
            metavar="<YYYY-MM-DD>",
            help="The day after the last (default: today).",
        ),
    ] = None,
    threshold: Annotated[
        Decimal,
        typer.Option(parser=parse.decimal, help="Flag days more than this many scales off."),
    ] = Decimal("3.5"),
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """Days whose spend departs from the same weekday's in the four weeks before (median and
    MAD), per series, with the lines (initiative, business unit, provider, model) that drove
    each."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.costs.spend.anomalies(by.split(","), since, until, threshold)
    if fmt is OutputFormat.json:
        render.document(report, fmt)
        return
    rows = [
        {
            "day": a.day,
            **{k: getattr(a, k) for k in report.by},
            "cost": a.cost,
            "expected": a.expected,
            "score": a.score,
            "direction": a.direction,
            "since": a.since,
            "lines": "; ".join(_driving(line, a.currency, exact) for line in a.lines),
            "currency": a.currency,
        }
        for a in report.anomalies
    ]
    title = f"Anomalies {report.start} to {report.end}"
    render.records(rows, fmt, title=title, exact=exact, kinds=kinds(report.anomalies))
    if not rows and fmt is OutputFormat.table:
        typer.echo(f"No anomalies from {report.start} to {report.end}.", err=True)


def _driving(line: DrivingLine, currency: str, exact: bool) -> str:
    """A line that drove an anomaly, in words: its names and its change."""
    from valuegap.decimals import money

    names = "/".join(v for v in (line.initiative, line.provider, line.model) if v)
    sign = "+" if line.change > 0 else "-"
    return f"{names} {sign}{money(abs(line.change), currency, exact=exact)}"


@command(app, "initiative")
def initiative(
    initiative_id: Annotated[str, typer.Argument(metavar="ID")],
    period: Period = None,
    start: From = None,
    end: To = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
    engine: EngineOption = None,
) -> None:
    """One initiative's cost, value with its interval, ROI, payback, cost per successful
    outcome, capacity, behaviour and quality."""
    with synced(engine) as ledger:
        report = ledger.outcomes.initiative_report(initiative_id, window(period, start, end))
    _show(report, report.metrics, fmt, exact, {
        "metrics": ["id", "method", "effect", "effect_low", "effect_high", "value", "value_low",
                    "value_high", "validated", "validation_reason"],
        "periods": [],
        "by_month": [],
    })  # fmt: skip


@command(app, "portfolio")
def portfolio(
    period: Period = None,
    start: From = None,
    end: To = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
    engine: EngineOption = None,
) -> None:
    """Every initiative's cost, value and ROI, and attribution coverage: the share of all AI
    cost (unallocated included) tied to a validated outcome. External sources are synced
    first, on the engine."""
    asked = window(period, start, end)
    with synced(engine) as ledger:
        report = ledger.outcomes.portfolio_report(asked)
    columns = [
        "id",
        "state",
        "total_cost",
        "value",
        "value_low",
        "value_high",
        "roi",
        "roi_conservative",
        "cost_per_outcome",
        "validation_reason",
    ]
    shown = {"initiatives": columns}
    if asked.previous() is None:  # a window open at an end has none before it to compare with
        shown |= {"previous_attribution_coverage": [], "coverage_change": []}
    _show(report, report.initiatives, fmt, exact, shown)


@command(app, "coverage")
def coverage(
    period: Period = None,
    start: From = None,
    end: To = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """Attribution coverage month by month (each month's is the portfolio report's for that
    month), with its change from the first month to the latest."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.outcomes.coverage_trend(window(period, start, end))
    _show(report, report.months, fmt, exact, {})


class ExecutiveFormat(enum.StrEnum):
    """The executive report: a PDF to forward, a self-contained HTML page, or its JSON."""

    pdf = "pdf"
    html = "html"
    json = "json"


@command(app, "executive")
def executive(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The file to write (html and json: standard output if none)."
        ),
    ] = None,
    fmt: Annotated[
        ExecutiveFormat,
        typer.Option("--format", "-f", metavar="<format>", help="pdf, html or json."),
    ] = ExecutiveFormat.pdf,
    period: Period = None,
    start: From = None,
    end: To = None,
) -> None:
    """One to three pages to forward: total AI spend, value (point and conservative), ROI,
    attribution coverage and its change, unallocated spend; the coverage trend and the
    J-curves; and the scale/fix/kill list from the latest reviews (default period: the latest
    quarter with cost)."""
    from valuegap.charts.executive import executive_report

    if fmt is ExecutiveFormat.pdf and output is None:
        raise typer.BadParameter("a PDF needs a file to go to: give --output.")
    asked = window(period, start, end) if period or start or end else None
    with open_ledger(read_only=True) as ledger:
        report = executive_report(ledger, asked)
    if fmt is ExecutiveFormat.pdf:
        from valuegap.charts.executive_pdf import to_pdf

        assert output is not None
        output.write_bytes(to_pdf(report))
        return
    if fmt is ExecutiveFormat.html:
        from valuegap.charts.executive_html import to_html

        text = to_html(report)
    else:
        from valuegap.results import to_json

        text = to_json(report) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@command(app, "jcurve")
def jcurve(
    initiative_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="An initiative; none: the portfolio.")
    ] = None,
    months: Annotated[
        int | None,
        typer.Option(help="The months to forecast (default 24, or as long as the actuals run)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """The J-curve named in advance by the business case: expected monthly and cumulative net
    value with its band, the trough and the payback month; actual against it, with a status
    (ahead, on_track, in_expected_dip, behind). Without an ID, the portfolio's: the sum."""
    with open_ledger(read_only=True) as ledger:
        if initiative_id is None:
            report = ledger.outcomes.portfolio_jcurve(months)
        else:
            report = ledger.outcomes.jcurve(initiative_id, months)
    columns = "month calendar_month expected_cumulative band_low band_high actual_cumulative status"
    shown = {"months": columns.split()} | ({"initiatives": []} if initiative_id else {})
    _show(report, report.months, fmt, exact, shown)


@command(app, "scoreboard")
def scoreboard(
    period: Period = None,
    start: From = None,
    end: To = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """Coverage and its change, laggards retired, cost per successful outcome falling, per
    business unit (default: the latest quarter with cost, against the one before)."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.outcomes.scoreboard(
            window(period, start, end) if period or start or end else None
        )
    _show(report, report.business_units, fmt, exact, {})


On = Annotated[
    date | None,
    typer.Option(
        parser=parse.iso_date,
        metavar="<YYYY-MM-DD>",
        help="The report date (default: the day after the latest adoption data).",
    ),
]


@command(app, "adoption")
def adoption(
    unit: Annotated[
        str | None,
        typer.Option(help="Only the groups in this org unit's part of the org chart."),
    ] = None,
    initiative: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Only the people of this initiative (or tool)."),
    ] = None,
    on: On = None,
    fmt: FormatOption = OutputFormat.table,
    exact: ExactOption = False,
) -> None:
    """The adoption ladder of each group of at least min_group_size people: its rung, the
    share of its licensed people at each rung and reaching it, and the largest drop. Smaller
    units are counted in their parent's group, which says so."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.adoption.adoption_report(unit, initiative, on)
    from valuegap.adoption.ladder import PERSON_RUNGS

    reaching = [f"reaching_{rung.value}" for rung in PERSON_RUNGS]
    columns = ["group", "people", "rung", *reaching, "largest_drop", "includes"]
    _show(report, report.groups, fmt, exact, {"groups": columns})


@command(app, "conviction")
def conviction(
    on: On = None, fmt: FormatOption = OutputFormat.table, exact: ExactOption = False
) -> None:
    """The conviction distance of each group of at least min_group_size people: executive
    confidence, manager readiness, workforce use, workflow integration and realised outcome
    (0-1), the distance from confidence to outcome, and the largest drop."""
    with open_ledger(read_only=True) as ledger:
        report = ledger.adoption.conviction_report(on)
    from valuegap.adoption.conviction import LEVELS

    levels = [level.value for level in LEVELS]
    columns = ["group", "people", *levels, "distance", "largest_drop", "includes", "notes"]
    _show(report, report.groups, fmt, exact, {"groups": columns})


class StatementFormat(enum.StrEnum):
    """The formats of a statement: those of every report, and a page to print."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


@command(app, "showback")
def showback(
    unit: Annotated[str, typer.Option(help="The business unit.")],
    period: Annotated[
        str,
        typer.Option(
            parser=parse.period,
            help="A month (2026-03; in chargeback, the statement to book), or a quarter, half "
            "or year.",
        ),
    ],
    fmt: Annotated[
        StatementFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="<format>",
            help="table, json, csv (its lines and adjustments), markdown, or html: a page to "
            "print.",
        ),
    ] = StatementFormat.table,
    exact: ExactOption = False,
) -> None:
    """A business unit's statement: its initiatives' cost by category, provider and model, its
    share of shared cost with the rule and driver that split it, what is estimated, cost per
    successful outcome, and activity as context. From the month finance switched the unit to
    chargeback, a month's statement is the amount to book; a closed month's is as it was
    closed, and later changes to it are adjustments in the next open month."""
    from valuegap.outcomes.periods import parse_period

    with open_ledger(read_only=True) as ledger:
        statement = ledger.statements.statement(unit, parse_period(period))
    if fmt is StatementFormat.html:
        from valuegap.cli.statement_html import statement_html

        sys.stdout.write(statement_html(statement))
        return
    from valuegap.outcomes.statement import statement_rows

    rows = statement_rows(statement)
    _show(statement, rows, OutputFormat(fmt.value), exact, {})


def _show(
    report: object, rows: object, fmt: OutputFormat, exact: bool, shown: dict[str, list[str]]
) -> None:
    """JSON: the whole report. CSV: its main list, ``rows``. A table: the report with the named
    lists cut to the named columns (an empty list of columns leaves the field out)."""
    if fmt is OutputFormat.csv:
        render.records(rows, fmt)
        return
    declared = kinds(report)
    if fmt is OutputFormat.table:
        report = _flat(_cut(report, shown))
    render.document(report, fmt, exact=exact, kinds=declared)


def _flat(report: object) -> object:
    """Objects of plain values (or lists of them) become rows of their own: ``outcomes.trend``."""
    if not isinstance(report, dict):
        return report

    def plain(value: object) -> bool:
        items = value if isinstance(value, list) else [value]
        return not any(isinstance(item, dict | list) for item in items)

    flat: dict[str, object] = {}
    for key, value in report.items():
        if isinstance(value, dict) and all(plain(v) for v in value.values()):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _cut(value: object, shown: dict[str, list[str]]) -> object:
    """For people: a result as its fields, named lists cut to their columns, the period in
    words."""
    from valuegap.outcomes.periods import Period

    if isinstance(value, Period):
        return f"{value.start or 'the beginning'} to {value.end or 'now'}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        cut = {}
        for key, item in value.items():
            if key in shown and not shown[key]:
                continue
            item = _cut(item, shown)
            if key in shown and isinstance(item, list):
                item = [
                    {c: row.get(c) for c in shown[key]} for row in item if isinstance(row, dict)
                ]
            cut[key] = item
        return cut
    if isinstance(value, list):
        return [_cut(item, shown) for item in value]
    return value

"""``valuegap ingest``: load cloud bills, LLM usage, manual costs, currency rates, measured
outcomes, and adoption data (the org chart, adoption records, surveys)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.decimals import money
from valuegap.model.usage import UsageFormat
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.costs.api import IngestResult
    from valuegap.ledger import Ledger

app = group("ingest")

Files = Annotated[list[Path], typer.Argument(metavar="FILE...", help="CSV, .csv.gz or .parquet")]


def _run(
    ledger: Ledger, work: Callable[[Callable[[int], None]], list[IngestResult]],
    fmt: OutputFormat,
) -> None:  # fmt: skip
    """Do ``work`` under a progress bar (the running statement's progress, and rows read where
    they are counted), then show what landed, with the throughput."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    started = time.perf_counter()
    columns = (TextColumn("Ingesting"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rows]}"), TimeElapsedColumn())  # fmt: skip
    # a bar only on a terminal: elsewhere it would leave a blank line in what is kept
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("ingest", total=100, rows="")
        done = threading.Event()

        def follow() -> None:
            while not done.wait(0.2):
                if (percent := ledger.progress()) is not None:
                    bar.update(task, completed=percent)

        watcher = threading.Thread(target=follow, daemon=True)
        watcher.start()
        try:
            results = work(lambda rows: bar.update(task, rows=counted(rows, "row")))
        finally:
            done.set()
            watcher.join()
    seconds = time.perf_counter() - started
    rows = [
        {"file": r.file, "rows_read": r.rows_read, "rows_added": r.rows_added,
         "already_stored": r.rows_skipped}
        for r in results
    ]  # fmt: skip
    if fmt is not OutputFormat.table and any(r.kind == "focus" for r in results):
        for row, result in zip(rows, results, strict=True):
            row["true_ups"] = [t.as_dict() for t in result.true_ups]
    render.records(rows, fmt, title="Ingested")
    if fmt is OutputFormat.table:
        total = sum(r.rows_read for r in results)
        rate = total / seconds if seconds > 0 else 0.0
        console.print(f"{counted(total, 'row')} in {seconds:.1f} s ({rate:,.0f} rows/s).")
        for t in (t for r in results for t in r.true_ups):
            was = ", ".join(f"{money(a, c)} {c}" for c, a in t.estimated.items())
            now = ", ".join(f"{money(a, c)} {c}" for c, a in t.invoiced.items())
            console.print(
                f"True-up: {t.provider} {t.month:%Y-%m}: the invoice ({now}) "
                f"replaces the usage estimate ({was}).",
                markup=False,
            )


@command(app, "focus")
def focus(files: Files, fmt: FormatOption = OutputFormat.table) -> None:
    """FOCUS 1.0-1.3 cost-and-usage exports. All files land, or none."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: ledger.costs.ingest_focus(files), fmt)


UsageFormatOption = Annotated[
    UsageFormat | None,
    typer.Option(
        "--input-format",
        help="FILE's format, if it cannot be told from its content: otel (OTLP JSON or JSON "
        "lines), litellm (a spend log) or csv (CSV or Parquet with the usage fields).",
    ),
]


@command(app, "usage")
def usage(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    input_format: UsageFormatOption = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help='FIELD=COLUMN pairs, comma-separated: "timestamp=ts, model=model_name, '
            'tag.team=squad"',
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """LLM usage events: OpenTelemetry GenAI spans, LiteLLM spend logs, or CSV/Parquet; the
    format is told from the content."""
    from valuegap.costs.usage import parse_mapping

    with open_ledger() as ledger:
        columns = parse_mapping(mapping)
        _run(
            ledger,
            lambda progress: [ledger.costs.ingest_usage(file, input_format, columns, progress)],
            fmt,
        )


@command(app, "costs")
def costs(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Manual costs: period_start, period_end, category, amount, currency, initiative,
    business_unit, description (people may give fte and rate_per_month in place of amount)."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: [ledger.costs.ingest_costs(file)], fmt)


@command(app, "rates")
def rates(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Currency rates: valid_from, from_currency, to_currency, rate (1 from = rate to)."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: [ledger.costs.ingest_rates(file)], fmt)


def _measures(kind: str, help: str) -> None:
    def load(
        file: Annotated[Path, typer.Argument(metavar="FILE")],
        fmt: FormatOption = OutputFormat.table,
    ) -> None:
        with open_ledger() as ledger:
            _run(ledger, lambda _: [ledger.outcomes.ingest_measures(kind, file)], fmt)  # type: ignore[arg-type]

    load.__doc__ = help
    load.__name__ = kind
    command(app, kind)(load)


_measures(
    "observations",
    "Metric observations: metric, period_start, period_end, group, phase "
    "and n, mean, sd (or n, sum, sum_sq), optionally volume; group treatment|control|all, "
    "phase before|after.",
)
_measures(
    "outcomes",
    "Successful outcome counts: initiative, period_start, period_end, count, "
    "optionally metric and source (the system of record).",
)
_measures(
    "behaviour",
    "Decisions per initiative and period: initiative, period_start, "
    "period_end, decisions, accepted, overridden, escalated, optionally "
    "review_minutes.",
)
_measures(
    "quality",
    "Quality on labelled samples: initiative, period_start, period_end, score, "
    "sample_size, optionally measure (default accuracy) and reference (true for the "
    "PoC's figure).",
)
_measures(
    "capacity",
    "Hours saved: initiative, period_start, period_end, redeployed, "
    "cost_reduced, not_captured, optionally metric (the one measuring these "
    "hours).",
)


@command(app, "org")
def org(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The org chart: unit, parent (empty for a root). It replaces the stored chart whole."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: [ledger.adoption.ingest_org(file)], fmt)


@command(app, "adoption")
def adoption(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Adoption records: person, unit, subject, record (access, awareness, training,
    activity), day, uses (activity only); process volume as record process with no person,
    uses handled with AI and process_volume. People are pseudonymised before anything is
    written."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: [ledger.adoption.ingest_adoption(file)], fmt)


@command(app, "survey")
def survey(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Survey answers: unit, survey (executive_confidence or manager_readiness), period (a
    date), answer (1-5); stored as each unit's mean, never per respondent."""
    with open_ledger() as ledger:
        _run(ledger, lambda _: [ledger.adoption.ingest_survey(file)], fmt)

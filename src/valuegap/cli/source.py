"""``valuegap source``: FOCUS exports and usage logs that stay where they live (a folder, an
object store, a catalogue table), read by the engine; the ledger keeps their sums."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.ledger import Ledger

app = group("source")


class Kind(StrEnum):
    focus = "focus"
    usage = "usage"


class SourceFormat(StrEnum):
    parquet = "parquet"
    table = "table"


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    EngineName | None,
    typer.Option(
        "--engine",
        help="Where the facts are read: duckdb (embedded) or spark (the [engine] settings); "
        "default: the setting engine.",
    ),
]


@command(app, "add")
def add(
    kind: Annotated[Kind, typer.Argument(metavar="KIND", help="focus or usage.")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
    path: Annotated[
        str,
        typer.Option(
            help="A folder or file of Parquet, a URL the engine reads (s3a://bucket/focus/), "
            "or with --format table a catalogue table's name."
        ),
    ],
    source_format: Annotated[
        SourceFormat, typer.Option("--format", help="parquet, or table (Spark's catalogue).")
    ] = SourceFormat.parquet,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help='Usage only: FIELD=COLUMN pairs, comma-separated: "timestamp=ts, '
            'model=model_name, tag.team=squad"',
        ),
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Define a source; its schema is checked (a FOCUS source lacking FOCUS columns is refused,
    naming them). Nothing is read until the next sync (or report)."""
    from valuegap.costs.usage import parse_mapping

    with open_ledger() as ledger:
        added = ledger.costs.sources.add(
            kind.value,
            name,
            path,
            source_format.value,
            parse_mapping(mapping),
            engine.value if engine else None,
        )
    typer.echo(
        f"{added.name}: a {added.kind} source at {added.location}; run `valuegap "
        "source sync` (or a report) to read it."
    )


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The sources, with their partitions read and their last sync."""
    with open_ledger(read_only=True) as ledger:
        found = ledger.costs.sources.sources()
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "location": s.location,
            "format": s.format,
            "mapping": ", ".join(f"{k}={v}" for k, v in s.mapping.items()),
            "partitions": s.partitions,
            "synced_at": s.synced_at,
        }
        for s in found
    ]
    render.records(rows, fmt, title="Sources")


@command(app, "remove")
def remove(name: Annotated[str, typer.Argument(metavar="NAME")]) -> None:
    """Remove a source and the sums of its facts (the facts themselves stay where they are)."""
    with open_ledger() as ledger:
        months = ledger.costs.sources.remove(name)
    typer.echo(f"{name}: removed; {counted(len(months), 'month')} of cost computed again.")


@command(app, "sync")
def sync(engine: EngineOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Read what is new or changed in every source: only the partitions (files) added or
    changed since the last sync, or whose rules or prices changed."""
    with open_ledger() as ledger:
        done = ledger.costs.sources.sync(engine.value if engine else None)
    rows = [
        {
            "source": d.source,
            "engine": d.engine,
            "read": len(d.read),
            "kept": d.kept,
            "removed": len(d.removed),
            "rows": d.rows,
            "months": ", ".join(f"{m:%Y-%m}" for m in d.months),
        }
        for d in done
    ]
    render.records(rows, fmt, title="Sources synced")


@contextmanager
def synced(engine: EngineName | None) -> Iterator[Ledger]:
    """The ledger opened to read, for a report, with its external sources' sums brought up to
    date first on the engine: a write, made only when the ledger has sources (a ledger without
    any is opened once, read-only)."""
    with open_ledger(read_only=True) as ledger:
        if not ledger.costs.has_sources():
            yield ledger
            return
    with open_ledger() as writer:
        writer.costs.sources.sync(engine.value if engine else None)
    with open_ledger(read_only=True) as ledger:
        yield ledger

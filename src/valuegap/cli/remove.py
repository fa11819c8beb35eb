"""``valuegap remove``: take wrong cost lines out of the ledger, by key or by the file they came
from, with a reason (finance). The rows removed are kept in the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.ingest import UsageFormatOption
from valuegap.cli.program import group
from valuegap.model.usage import UsageFormat
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.costs.removal import CostKind

app = group("remove")

File = Annotated[
    Path | None,
    typer.Argument(metavar="[FILE]", help="Remove exactly the lines this file yields."),
]
Keys = Annotated[
    list[str] | None,
    typer.Option("--key", help="A line's key (repeat for several); instead of FILE."),
]
Reason = Annotated[str, typer.Option(help="Why the lines are wrong (kept in the audit log).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would go; remove nothing.")]


def _remove(
    kind: CostKind,
    file: Path | None,
    keys: list[str] | None,
    reason: str,
    dry_run: bool,
    fmt: OutputFormat,
    usage_format: UsageFormat | None = None,
    mapping: str | None = None,
) -> None:
    from valuegap.costs.usage import parse_mapping

    with open_ledger() as ledger:
        removal = ledger.costs.removal.remove_costs(
            kind,
            reason=reason,
            keys=keys or (),
            file=file,
            usage_format=usage_format,
            mapping=parse_mapping(mapping),
            dry_run=dry_run,
        )
    if fmt is not OutputFormat.table:
        render.records(removal.rows, fmt, title=removal.table)
        return
    what = "would be removed (dry run)" if dry_run else "removed"
    typer.echo(
        f"{counted(len(removal.rows), 'row')} of {removal.table} {what}: {removal.entity_id}."
    )


@command(app, "focus")
def focus(
    reason: Reason,
    file: File = None,
    key: Keys = None,
    dry_run: DryRun = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """FOCUS lines: those FILE yields, or by key (line hash, or line hash#occurrence)."""
    _remove("focus", file, key, reason, dry_run, fmt)


@command(app, "usage")
def usage(
    reason: Reason,
    file: File = None,
    key: Keys = None,
    input_format: UsageFormatOption = None,
    mapping: Annotated[
        str | None, typer.Option("--map", help="FILE's column mapping, as at ingest")
    ] = None,
    dry_run: DryRun = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Usage events: those FILE yields (read as at ingest), or by key (the event's id)."""
    _remove("usage", file, key, reason, dry_run, fmt, input_format, mapping)


@command(app, "costs")
def costs(
    reason: Reason,
    file: File = None,
    key: Keys = None,
    dry_run: DryRun = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Manual cost entries: those FILE yields, or by key (an entry's key, all its months)."""
    _remove("costs", file, key, reason, dry_run, fmt)

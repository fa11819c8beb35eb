"""``valuegap rules``: allocation rules from a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("rules")


@command(app, "apply")
def apply(file: Annotated[Path, typer.Argument(metavar="RULES.yaml")]) -> None:
    """Replace the rules in force (refused whole on any problem); reports recompute."""
    with open_ledger() as ledger:
        version = ledger.costs.apply_rules(file)
    typer.echo(f"Allocation rules version {version} in force.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The rules in force, in the order they are tried."""
    with open_ledger(read_only=True) as ledger:
        rules = ledger.costs.allocation_rules()
    rows = [r.model_dump(mode="json", exclude_none=True) for r in rules.rules]
    render.records(rows, fmt, columns=["id", "match", "initiative", "business_unit", "split"],
                   title="Allocation rules")  # fmt: skip

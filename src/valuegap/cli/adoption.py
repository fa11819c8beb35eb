"""``valuegap adoption retain``: reduce old pseudonymous adoption records to weekly aggregates
and delete them (docs/privacy.md)."""

from __future__ import annotations

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

app = group("adoption")


@command(app, "retain")
def retain(fmt: FormatOption = OutputFormat.table) -> None:
    """Reduce the adoption records older than adoption_retention_months (whole ISO weeks) to
    weekly aggregates per unit, subject and record, and delete them. Each adoption ingest
    does this too."""
    with open_ledger() as ledger:
        done = ledger.adoption.retain()
    render.document(done, fmt, title="Retention")

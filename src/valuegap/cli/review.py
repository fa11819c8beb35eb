"""``valuegap review``: scale-or-kill reviews at each initiative's review date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli import parse, render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group

if TYPE_CHECKING:
    from valuegap.governance.reviews import RecordedReview, Review

app = group("review")

COLUMNS = ["initiative", "stage", "due", "recommendation", "reasons"]


@command(app, "run")
def run(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of", parser=parse.iso_date, help="Review as of (YYYY-MM-DD) (default: today)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Review every initiative whose review date has come, and record the recommendations."""
    with open_ledger() as ledger:
        reviews = ledger.governance.run_reviews(as_of)
    render.records(_readable(reviews, fmt), fmt, columns=COLUMNS, title="Reviews due")


@command(app, "list")
def list_(
    initiative: Annotated[str | None, typer.Option(help="Only this initiative.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The recommendations recorded so far."""
    with open_ledger(read_only=True) as ledger:
        reviews = ledger.governance.reviews(initiative)
    render.records(
        _readable(reviews, fmt),
        fmt,
        columns=["initiative", "as_of", "due", "recommendation", "reasons"],
        title="Reviews",
    )


def _readable(reviews: Sequence[Review | RecordedReview], fmt: OutputFormat) -> Sequence[object]:
    """In a table, a review's reasons a line each; other formats keep the list."""
    if fmt is not OutputFormat.table:
        return reviews
    return [{**vars(r), "reasons": "\n".join(r.reasons)} for r in reviews]

"""Where the CLI shows a result: the renderers' text (``valuegap.render``) on stdout, a table
as wide as the terminal and in colour where stdout is one."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from valuegap import render
from valuegap.cli.terminal import width_and_color
from valuegap.render import Format
from valuegap.results import Kinds

ExactOption = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Tables: money with every decimal, not rounded to the currency's minor unit "
        "(JSON and CSV always have every decimal).",
    ),
]


def records(
    rows: object,
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    exact: bool = False,
    kinds: Kinds | None = None,
) -> None:
    width, color = width_and_color()
    text = render.records(
        rows, fmt, columns=columns, title=title, width=width, color=color, exact=exact, kinds=kinds
    )
    sys.stdout.write(text)


def document(
    doc: object,
    fmt: Format,
    *,
    title: str | None = None,
    exact: bool = False,
    kinds: Kinds | None = None,
) -> None:
    width, color = width_and_color()
    text = render.document(
        doc, fmt, title=title, width=width, color=color, exact=exact, kinds=kinds
    )
    sys.stdout.write(text)


def json(result: object) -> None:
    from valuegap.results import to_json

    sys.stdout.write(to_json(result) + "\n")

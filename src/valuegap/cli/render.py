"""Turn plain report data into a table for people, or JSON or CSV for machines.

JSON and CSV keep every field; money and other decimals are strings, dates ISO 8601.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from valuegap.cli.common import OutputFormat


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple) and all(not isinstance(v, dict) for v in value):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def records(
    rows: Sequence[Mapping[str, Any]],
    fmt: OutputFormat,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """A list of objects. ``columns`` picks what the table shows; JSON and CSV show all."""
    if fmt is OutputFormat.json:
        print(to_json(list(rows)))
        return
    if fmt is OutputFormat.csv:
        names = list(rows[0]) if rows else list(columns or [])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_csv_cell(row.get(n)) for n in names] for row in rows)
        sys.stdout.write(out.getvalue())
        return
    from rich.console import Console
    from rich.table import Table

    shown = list(columns or (rows[0] if rows else []))
    table = Table(title=title, title_justify="left", show_lines=False)
    for position, name in enumerate(shown):
        table.add_column(name, no_wrap=position == 0)
    for row in rows:
        table.add_row(*(_cell(row.get(n)) for n in shown))
    console = Console()
    if rows:
        console.print(table)
    else:
        console.print(f"{title or 'Nothing'}: none.", markup=False)


def document(doc: Mapping[str, Any], fmt: OutputFormat, *, title: str | None = None) -> None:
    """One object. Its list-of-object fields become tables of their own."""
    if fmt is OutputFormat.json:
        print(to_json(dict(doc)))
        return
    if fmt is OutputFormat.csv:
        records([{"field": k, "value": _csv_cell(v)} for k, v in doc.items()], fmt)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    nested: list[tuple[str, Any]] = []
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            nested.append((key, value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            nested.append((key, [{"name": k, **v} for k, v in value.items()]))
        else:
            table.add_row(key, _cell(value))
    console.print(table)
    for key, rows in nested:
        console.print()
        records(rows, OutputFormat.table, title=key)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return "" if value is None else value

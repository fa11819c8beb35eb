"""Results as text: a table for people, JSON or CSV for machines, markdown for documents.

Renderers take a result (a dataclass or pydantic model, or a list of them) and return text;
they never print. Every format starts from the result's one JSON form (``results.to_data``), so
they all show the same numbers. JSON and CSV keep every field; a table shows the ``columns``
asked for.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from valuegap.results import to_data, to_json

if TYPE_CHECKING:
    from pydantic import JsonValue


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def records(
    rows: object,
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    width: int = 100,
    color: bool = False,
) -> str:
    """A list of results, one row each. ``columns`` picks what a table or markdown shows."""
    data = to_data(rows)
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise TypeError("records() renders a list of results")
    found: list[dict[str, JsonValue]] = [row for row in data if isinstance(row, dict)]
    if fmt is Format.json:
        return to_json(found) + "\n"
    if fmt is Format.csv:
        return _csv(found, list(found[0]) if found else list(columns or []))
    shown = list(columns or (found[0] if found else []))
    if not found:
        return f"{title or 'Nothing'}: none.\n"
    if fmt is Format.markdown:
        return _markdown(found, shown, title)
    return _table(found, shown, title, width, color)


def document(
    doc: object,
    fmt: Format,
    *,
    title: str | None = None,
    width: int = 100,
    color: bool = False,
) -> str:
    """One result. In a table or markdown, its list-of-object fields become tables of their
    own."""
    data = to_data(doc)
    if not isinstance(data, dict):
        raise TypeError("document() renders one result")
    if fmt is Format.json:
        return to_json(data) + "\n"
    if fmt is Format.csv:
        return _csv([{"field": k, "value": _flat(v)} for k, v in data.items()], ["field", "value"])
    fields: list[dict[str, JsonValue]] = []
    nested: list[tuple[str, list[dict[str, JsonValue]]]] = []
    for key, value in data.items():
        rows = _as_rows(value)
        if rows is None:
            fields.append({"field": key, "value": value})
        else:
            nested.append((key, rows))
    if fmt is Format.markdown:
        parts = [_markdown(fields, ["field", "value"], title, header=False)]
        parts += [_markdown(rows, list(rows[0]), key) for key, rows in nested]
    else:
        parts = [_table(fields, ["field", "value"], title, width, color, header=False)]
        parts += [_table(rows, list(rows[0]), key, width, color) for key, rows in nested]
    return "\n".join(parts)


def _as_rows(value: JsonValue) -> list[dict[str, JsonValue]] | None:
    """A field that is a list of objects, or an object of objects (named), as rows."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return [{"name": k, **v} for k, v in value.items() if isinstance(v, dict)]
    return None


def _cell(value: JsonValue) -> str:
    """A value as a person reads it in a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _flat(value: JsonValue) -> str | int | float:
    """A value in one CSV cell: nested ones as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


def _csv(rows: Sequence[Mapping[str, JsonValue]], names: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_flat(row.get(n)) for n in names] for row in rows)
    return out.getvalue()


def _markdown(
    rows: Sequence[Mapping[str, JsonValue]],
    names: Sequence[str],
    title: str | None,
    *,
    header: bool = True,
) -> str:
    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [f"### {escaped(title)}", ""] if title else []
    heads = list(names) if header else ["" for _ in names]
    lines.append("| " + " | ".join(escaped(n) for n in heads) + " |")
    lines.append("|" + "|".join(" --- " for _ in names) + "|")
    lines += ["| " + " | ".join(escaped(_cell(row.get(n))) for n in names) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _table(
    rows: Sequence[Mapping[str, JsonValue]],
    names: Sequence[str],
    title: str | None,
    width: int,
    color: bool,
    *,
    header: bool = True,
) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=header)
    if not header:
        table.box = None
    for position, name in enumerate(names):
        first = position == 0
        table.add_column(name, no_wrap=first, style="bold" if first and not header else None)
    for row in rows:
        table.add_row(*(_cell(row.get(n)) for n in names))
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(table)
    return out.getvalue()

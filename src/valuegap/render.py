"""Results as text: a table for people, JSON or CSV for machines, markdown for documents.

Renderers take a result (a dataclass or pydantic model, or a list of them) and return text;
they never print. Every format starts from the result's one JSON form (``results.to_data``), so
they all show the same numbers. JSON and CSV keep every field, and money with every decimal; a
table shows the ``columns`` asked for.

For people (a table, markdown), money is rounded to its currency's minor unit with thousands
separators (every decimal with ``exact``) and ratios are percentages with one decimal; which
fields are money and which ratios, the result's types declare (``results.Money``,
``results.Ratio``), and ``kinds`` adds to them. Other numbers are shown as in JSON.

A table fits the width it is given and never cuts a value. Each column is as wide as its
longest value or, where the width is too small for that, as its longest word: text wraps at
spaces, and money, identifiers and dates, which have none, stay whole. A table whose columns do
not fit even so is shown as records: one block of ``field  value`` lines per row.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from valuegap import decimals, results
from valuegap.records import record
from valuegap.results import Kind, Kinds, to_data, to_json

if TYPE_CHECKING:
    from pydantic import JsonValue  # not at run time: `valuegap --help` imports this module

    Row = Mapping[str, JsonValue]


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
    exact: bool = False,
    kinds: Kinds | None = None,
) -> str:
    """A list of results, one row each. ``columns`` picks what a table or markdown shows;
    ``kinds`` names money and ratio fields beside those the results' types declare (rows that
    are mappings declare none)."""
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
    cells = _Cells(results.kinds(rows) | (kinds or Kinds()), exact)
    texts = [cells.row(row, shown) for row in found]
    if fmt is Format.markdown:
        return _markdown(shown, texts, title)
    return _table(shown, texts, title, width, color)


def document(
    doc: object,
    fmt: Format,
    *,
    title: str | None = None,
    width: int = 100,
    color: bool = False,
    exact: bool = False,
    kinds: Kinds | None = None,
) -> str:
    """One result. In a table or markdown, its list-of-object fields become tables of their
    own, whose money is in the document's ``currency`` where a row has none."""
    data = to_data(doc)
    if not isinstance(data, dict):
        raise TypeError("document() renders one result")
    if fmt is Format.json:
        return to_json(data) + "\n"
    if fmt is Format.csv:
        return _csv([{"field": k, "value": _flat(v)} for k, v in data.items()], ["field", "value"])
    currency = data.get("currency")
    cells = _Cells(
        results.kinds(doc) | (kinds or Kinds()),
        exact,
        currency if isinstance(currency, str) else None,
    )
    fields: list[tuple[str, str]] = []
    nested: list[tuple[str, list[dict[str, JsonValue]]]] = []
    for key, value in data.items():
        rows = _as_rows(value)
        if rows is None:
            fields.append((key, cells.cell(key, value, cells.currency)))
        else:
            nested.append((key, rows))
    tables = []
    for key, rows in nested:
        names = list(rows[0])
        tables.append((key, names, [cells.row(row, names) for row in rows]))
    if fmt is Format.markdown:
        parts = [_markdown(["", ""], [list(field) for field in fields], title, header=False)]
        parts += [_markdown(names, texts, key) for key, names, texts in tables]
    else:
        parts = [_fields([fields], title, width, color)]
        parts += [_table(names, texts, key, width, color) for key, names, texts in tables]
    return "\n".join(parts)


@record
class _Cells:
    """Values as a person reads them in a cell: money in its currency, ratios as
    percentages."""

    kinds: Kinds
    exact: bool
    currency: str | None = None  # of rows that have no currency of their own

    def row(self, row: Row, names: Sequence[str]) -> list[str]:
        own = row.get("currency")
        currency = own if isinstance(own, str) else self.currency
        return [self.cell(name, row.get(name), currency) for name in names]

    def cell(self, name: str, value: JsonValue, currency: str | None) -> str:
        kind = self.kinds.of(name)
        number = _number(value) if kind else None
        if number is not None and kind is Kind.money:
            return decimals.money(number, currency, exact=self.exact)
        if number is not None and kind is Kind.ratio:
            return decimals.percent(number, exact=self.exact)
        if number is not None and kind is Kind.quantity:
            return decimals.quantity(number, exact=self.exact)
        return _text(value)


def _number(value: JsonValue) -> Decimal | None:
    """A number of the JSON form (a decimal is a string there) as a Decimal: 0.1 is 0.1."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _as_rows(value: JsonValue) -> list[dict[str, JsonValue]] | None:
    """A field that is a list of objects, or an object of objects (named), as rows."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return [{"name": k, **v} for k, v in value.items() if isinstance(v, dict)]
    return None


def _text(value: JsonValue) -> str:
    """A value as a person reads it in a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ", ".join(_text(v) for v in value)
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


def _csv(rows: Sequence[Row], names: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_flat(row.get(n)) for n in names] for row in rows)
    return out.getvalue()


def _markdown(
    names: Sequence[str],
    texts: Sequence[Sequence[str]],
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
    lines += ["| " + " | ".join(escaped(text) for text in row) + " |" for row in texts]
    return "\n".join(lines) + "\n"


def _table(
    names: Sequence[str],
    texts: Sequence[Sequence[str]],
    title: str | None,
    width: int,
    color: bool,
) -> str:
    """A table with a header, if its columns fit ``width`` without cutting a word; else the
    same rows as records."""
    columns = [[name, *(row[i] for row in texts)] for i, name in enumerate(names)]
    longest = [max(_longest_line(text) for text in column) for column in columns]
    narrowest = [max(_longest_word(text) for text in column) for column in columns]
    room = width - (3 * len(names) - 1)  # a space either side of a column, a rule between
    if sum(narrowest) > room:
        return _fields([list(zip(names, row, strict=True)) for row in texts], title, width, color)
    widths = _widths(longest, narrowest, room)
    italic, reset = ("\x1b[3m", "\x1b[0m") if color else ("", "")
    line_width = sum(widths) + 3 * len(widths) - 1
    lines = [f"{italic}{line}{reset}" for line in _wrapped(title, line_width)] if title else []
    lines += _row(names, widths, header=True, color=color)
    lines.append("╇".join("━" * (column_width + 2) for column_width in widths))
    for row in texts:
        lines += _row(row, widths, header=False, color=color)
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str], widths: Sequence[int], *, header: bool, color: bool) -> list[str]:
    """A table's row: its cells wrapped to their columns' widths, side by side; a header's
    (bold) at the bottom of its lines, as Rich aligns them."""
    rule = "┃" if header else "│"
    style, reset = ("\x1b[1m", "\x1b[0m") if header and color else ("", "")
    wrapped = [_wrapped(cell, width) for cell, width in zip(cells, widths, strict=True)]
    height = max(len(lines) for lines in wrapped)
    for lines, width in zip(wrapped, widths, strict=True):
        blank = [" " * width] * (height - len(lines))
        lines[:] = blank + lines if header else lines + blank
    rows = zip(*wrapped, strict=True)
    return [rule.join(f"{style} {piece} {reset}" for piece in pieces) for pieces in rows]


def _widths(longest: Sequence[int], narrowest: Sequence[int], room: int) -> list[int]:
    """Columns as wide as their longest value if they all fit in ``room``; else as their
    longest word, the room left shared in proportion to what each would need more."""
    if sum(longest) <= room:
        return list(longest)
    spare = room - sum(narrowest)
    wanted = [most - least for most, least in zip(longest, narrowest, strict=True)]
    return [
        least + spare * more // sum(wanted) for least, more in zip(narrowest, wanted, strict=True)
    ]


def _fields(
    blocks: Sequence[Sequence[tuple[str, str]]], title: str | None, width: int, color: bool
) -> str:
    """Blocks of ``field  value`` lines, a blank line between blocks. A value wraps at spaces,
    and a word longer than the line folds onto the next one: nothing is cut. Laid out as Rich
    lays out a table without borders (a test holds them equal), in plain Python: about six
    times as fast, which a long report's command line notices."""
    pairs = [pair for block in blocks for pair in block]
    if not pairs:
        return f"{title}\n" if title else ""
    name_width = min(max(_longest_line(name) for name, _ in pairs), width // 2)
    value_width = max(
        min(max(_longest_line(value) for _, value in pairs), width - name_width - 4), 1
    )
    line_width = name_width + value_width + 4  # a space either side of each column
    bold, italic, reset = ("\x1b[1m", "\x1b[3m", "\x1b[0m") if color else ("", "", "")
    lines = [f"{italic}{line}{reset}" for line in _wrapped(title, line_width)] if title else []
    for position, block in enumerate(blocks):
        for name, value in [("", ""), *block] if position else block:
            names, values = _wrapped(name, name_width), _wrapped(value, value_width)
            names += [" " * name_width] * (len(values) - len(names))
            values += [" " * value_width] * (len(names) - len(values))
            lines += [f"{bold} {n} {reset} {v} " for n, v in zip(names, values, strict=True)]
    return "\n".join(lines) + "\n"


_WORD = re.compile(r"\s*\S+\s*")  # a word, with the spaces after it (and before the first)


def _wrapped(text: str, width: int) -> list[str]:
    """``text``'s lines wrapped at spaces to ``width`` cells, each padded to it, as Rich wraps
    a cell with ``overflow="fold"``: a word that fits no line starts a line and folds."""
    from rich.cells import cell_len, chop_cells, set_cell_size

    wrapped = []
    for each in text.split("\n"):
        if len(each) <= width and each.isascii() and each.isprintable():
            # Most cells: a line that fits, one cell per character (no tab, no control).
            wrapped.append(each + " " * (width - len(each)))
            continue
        line, *after_tabs = each.split("\t")
        for part in after_tabs:  # a tab stop every 8 cells
            line += " " * (8 - cell_len(line) % 8) + part
        breaks: list[int] = []
        used = 0
        for word in _WORD.finditer(line):
            start, length = word.start(), cell_len(word.group().rstrip())
            if used + length <= width:
                used += cell_len(word.group())
                continue
            chopped = chop_cells(word.group(), width) if length > width else [word.group()]
            for piece in chopped:
                if start:
                    breaks.append(start)
                start += len(piece)
            used = cell_len(chopped[-1])
        for piece in (line[a:b] for a, b in zip([0, *breaks], [*breaks, len(line)], strict=True)):
            excess = len(piece) - width  # as Rich counts it, in characters
            if excess > 0:
                piece = piece[: len(piece) - min(excess, len(piece) - len(piece.rstrip()))]
            wrapped.append(set_cell_size(piece, width))  # cut trailing spaces, or pad
    return wrapped


def _longest_line(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)

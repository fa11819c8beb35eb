"""Hypothesis strategies for hostile input: a valid example, mutated.

Most examples keep the structure of a valid file (its header, its keys) so that they get past
the first check and reach deeper code; each then carries a few hostile changes: values (huge,
tiny, not numbers, not finite, long, control characters, SQL), missing, repeated and renamed
columns or keys, ragged rows, deep nesting, and the bytes around them (Latin-1, UTF-16, byte
order marks, NUL bytes, gzip, truncated gzip, empty files).
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from valuegap.governance import context as ctx

Draw = Callable[[st.SearchStrategy[Any]], Any]

# Values.

NUMBERS = (
    "0", "-0", "1", "-1", "-3", "1.5", "10.5", "0.1", "1e20", "-1e20", "1e40", "-1e40", "1e-40",
    "1e308", "1e309", "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-inf", "1,5",
    "1_000", "0x10", " 12 ", "+5", "12e", ".", "-", "99999999999999999999999",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "0.00000000001", "123456789012345678901234567.89", "١٢",
)  # fmt: skip
TEXTS = (
    "", " ", "NULL", "null", "None", "true", "\x00", "a\x00b", "\x1b[31mred", "\r", "\n",
    "line\nbreak", "\t", '"', '""', "'", "\\", "é", "café", "€", "💸", "\u202eevil", "\ufeff",
    "'; DROP TABLE focus_lines; --", "' OR '1'='1", "Robert'); DELETE FROM usage_events;--",
    "{", "[]", '{"a": 1}', "[1, 2", "{{7*7}}", "${jndi:ldap://x}", "2025-13-45",
    "2025-02-30T25:61:00Z", "0001-01-01", "9999-12-31T23:59:59Z", "-infinity", "infinity",
    "1970-01-01", "2025-01-01T00:00:00+14:00", "usd", "US", "EURO", "XXX", "<script>",
)  # fmt: skip
DATES = (
    "infinity", "-infinity", "epoch", "today", "9999-12-31", "9999-12-31T23:59:59Z",
    "0001-01-01", "0000-01-01", "275760-09-13", "-2025-01-01", "2025-02-30", "2025-13-01",
    "2025-01-01T24:00:00Z", "2025-01-01T00:00:00+25:00", "2025-01-01 00:00:00 PST", "20250101",
    "1e20", "1735689600", "",
)  # fmt: skip
LONG = st.builds(
    lambda char, times: char * times,
    st.sampled_from(["x", "é", ",", '"', "\x00", "🙂", "9"]),
    st.sampled_from([300, 5_000, 140_000]),
)
hostile_text = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(TEXTS),
    LONG,
    st.text(max_size=30),
    st.integers().map(str),
    st.floats().map(str),
    st.decimals().map(str),
)


# Tables (CSV, Parquet).


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


def read_table(path: Path) -> Table:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return Table(header, rows)


def table(text: str) -> Table:
    header, *rows = list(csv.reader(io.StringIO(text.strip())))
    return Table(header, rows)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _set_cell(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    """A value replaced; a number or a date most often by another number or date, to reach
    the checks of numbers and dates and what sums them up."""
    if rows and header:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        column = draw(st.integers(0, len(header) - 1))
        row.extend([""] * (column + 1 - len(row)))
        kind = draw(st.integers(0, 2)) > 0 and (
            NUMBERS if _is_number(row[column]) else DATES if _DATE.match(row[column]) else None
        )
        row[column] = draw(st.sampled_from(kind) if kind else hostile_text)


def _drop_column(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if header:
        column = draw(st.integers(0, len(header) - 1))
        del header[column]
        for row in rows:
            del row[column : column + 1]


def _repeat_column(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if header:
        column = draw(st.integers(0, len(header) - 1))
        header.append(draw(st.sampled_from([header[column], header[column].upper()])))
        for row in rows:
            row.append(row[column] if column < len(row) else "")


def _rename_column(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if header:
        column = draw(st.integers(0, len(header) - 1))
        name = header[column]
        header[column] = draw(st.one_of(
            st.sampled_from([name.upper(), name.lower(), f" {name} ", f"x_{name}", "", "_row"]),
            hostile_text,
        ))  # fmt: skip


def _drop_row(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if rows:
        del rows[draw(st.integers(0, len(rows) - 1))]


def _repeat_row(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if rows:
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))


def _ragged_row(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if rows:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        if draw(st.booleans()) and row:
            row.pop()
        else:
            row.append(draw(hostile_text))


def _many_rows(draw: Draw, header: list[str], rows: list[list[str]]) -> None:
    if rows:
        rows.extend([list(rows[0]) for _ in range(draw(st.sampled_from([100, 3_000])))])


_TABLE_CHANGES = (
    *[_set_cell] * 8, _drop_column, _repeat_column, _rename_column, _drop_row, _repeat_row,
    _ragged_row, _many_rows,
)  # fmt: skip


@st.composite
def mutated_table(draw: Draw, valid: Table, most: int = 4) -> Table:
    """``valid`` with one to ``most`` hostile changes."""
    header, rows = list(valid.header), [list(r) for r in valid.rows]
    for _ in range(draw(st.integers(1, most))):
        draw(st.sampled_from(_TABLE_CHANGES))(draw, header, rows)
    return Table(header, rows)


@st.composite
def csv_text(draw: Draw, value: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
    )
    writer.writerow(value.header)
    writer.writerows(value.rows)
    return buffer.getvalue()


def parquet_bytes(value: Table) -> bytes:
    """The table as Parquet, every column text (ragged rows cut or padded to the header)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"{n}_{i}" if value.header.count(n) > 1 else n for i, n in enumerate(value.header)]
    columns = {
        name: pa.array([(r[i] if i < len(r) else None) for r in value.rows], pa.string())
        for i, name in enumerate(names)
    }
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


# Bytes: encodings and containers.

ENCODINGS = (*["utf-8"] * 6, "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le", "utf-32")


@st.composite
def encoded(draw: Draw, text: str) -> bytes:
    """``text`` in an encoding valuegap may or may not read, now and then with NUL bytes."""
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if data and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" * draw(st.sampled_from([1, 3, 1000])) + data[at:]
    return data


CONTAINERS = (
    *["plain"] * 6, "gzip", "gzip", "truncated gzip", "truncated", "empty", "gzip named plain",
    "plain named gzip",
)  # fmt: skip


@st.composite
def hostile_file(draw: Draw, text: str, suffix: str) -> tuple[str, bytes]:
    """(file name, bytes): ``text`` encoded, then plain, gzipped (named ``.gz`` or not),
    truncated or empty."""
    data = draw(encoded(text))
    container = draw(st.sampled_from(CONTAINERS))
    name = "input" + suffix
    if container in ("gzip", "truncated gzip", "gzip named plain"):
        data = gzip.compress(data, mtime=0)
        if container == "truncated gzip":
            data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
        if container != "gzip named plain":
            name += ".gz"
    elif container == "plain named gzip":
        name += ".gz"
    elif container == "truncated":
        data = data[: draw(st.integers(0, len(data)))]
    elif container == "empty":
        data = b""
    return name, data


@st.composite
def hostile_csv(draw: Draw, valid: Table, suffix: str = ".csv") -> tuple[str, bytes]:
    """A CSV file made from ``valid``, mutated (now and then not mutated at all)."""
    value = valid if draw(st.integers(0, 9)) == 0 else draw(mutated_table(valid))
    return draw(hostile_file(draw(csv_text(value)), suffix))


# Trees (JSON documents, YAML files).

DEEP = "@@deep:{}@@"  # a placeholder for nesting too deep to build as objects
deep_nesting = st.sampled_from([50, 999, 5_000, 100_000]).map(DEEP.format)


def tree_values(*extra: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values a JSON or YAML tree may hold instead of the right one (and ``extra``)."""
    return st.one_of(
        hostile_text,
        st.integers(),
        st.sampled_from([10**20, 10**40, -(10**40), 2**63, -(2**63) - 1, 2**64, -1, 0]),
        st.floats(),
        st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 1e308, 1e-320]),
        st.none(),
        st.booleans(),
        st.just([]),
        st.just({}),
        st.lists(hostile_text, max_size=3),
        st.dictionaries(hostile_text, hostile_text, max_size=2),
        deep_nesting,
        *extra,
    )


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _paths(value, (*at, n))
    return found


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


@st.composite
def mutated_tree(
    draw: Draw, valid: Any, values: st.SearchStrategy[Any], most: int = 3
) -> Any:  # fmt: skip
    """``valid`` (a JSON-like tree) with one to ``most`` changes: a value replaced, a key
    removed or added, an item repeated, a value wrapped in a list."""
    tree = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, most))):
        paths = _paths(tree)
        if not paths:
            return draw(values)
        path = draw(st.sampled_from(paths))
        parent, last = _parent(tree, path), path[-1]
        change = draw(st.sampled_from(["replace"] * 5 + ["remove", "add", "repeat", "wrap"]))
        if change == "replace":
            parent[last] = draw(values)
        elif change == "remove":
            del parent[last]
        elif change == "add" and isinstance(parent, dict):
            parent[draw(hostile_text)] = draw(values)
        elif change == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif change == "wrap":
            parent[last] = [parent[last]]
    return tree


def deepened(text: str) -> str:
    """``text`` with each deep-nesting placeholder (quoted, as a dump writes it) replaced by
    that many nested lists."""

    def nest(found: re.Match[str]) -> str:
        depth = int(found.group(1))
        return "[" * depth + "]" * depth

    return re.sub(r"""["']?@@deep:(\d+)@@["']?""", nest, text)


@st.composite
def json_text(draw: Draw, documents: list[Any]) -> str:
    """The documents as JSON lines, or one document pretty-printed (JSON with NaN and
    Infinity, as Python writes them)."""
    if len(documents) > 1 or draw(st.booleans()):
        text = "\n".join(json.dumps(d) for d in documents) + "\n"
    else:
        text = json.dumps(documents[0], indent=2)
    return deepened(text)


# YAML: a mutated tree, dumped, then now and then a hostile change to the text itself.

RAW_YAML = (
    "!!python/object/apply:os.system ['true']", "&a [*a]", "*nowhere", "!!binary AAAA",
    "{a: 1, a: 2}", ".nan", "-.inf", ".inf", "0x1F", "1e400", "!!float 'nan'", "[", "'open",
    "? [a, b]\n  : c", "\t1", "!!timestamp 2025-99-99", "2025-01-01", "~", "!!str", "|\n  x",
    "!!int '9' ", "&x 1", "[*x]", "!!set {a, b}", "!!omap [a: 1]", "%YAML 1.1",
)  # fmt: skip
_KEY_LINE = re.compile(r"^(\s*(?:- )?[\w.-]+:)( .*)?$")


@st.composite
def yaml_text(draw: Draw, valid: Any, values: st.SearchStrategy[Any]) -> str:
    tree = valid if draw(st.integers(0, 9)) == 0 else draw(mutated_tree(valid, values))
    text = deepened(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=10_000))
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["repeat line", "drop line", "raw value", "raw value"]))
        if change == "repeat line":  # most often a key given twice
            lines.insert(at, lines[at])
        elif change == "drop line":
            del lines[at]
        elif found := _KEY_LINE.match(lines[at]):
            lines[at] = f"{found.group(1)} {draw(st.sampled_from(RAW_YAML))}"
    return "\n".join(lines) + "\n"


# CEL expressions over the documented context.


def _leaves(schema: ctx.Schema, path: str) -> list[str]:
    if isinstance(schema, ctx.Leaf):
        return [path]
    if isinstance(schema, ctx.ListOf):
        return [path]
    return [p for name, child in schema.fields.items() for p in _leaves(child, f"{path}.{name}")]


NAMES = sorted(p for name, schema in ctx.CONTEXT.items() for p in _leaves(schema, name))
CEL_LITERALS = (
    "0", "1", "-1", "0.0", "-0.0", "1.5", "1e308", "1e309", "9223372036854775807",
    "-9223372036854775808", "9223372036854775808", "18446744073709551615u", "1u", "''", "'x'",
    "'\\u0000'", "'" + "x" * 10_000 + "'", "b'\\xff'", "null", "true", "false", "[]", "{}",
    "[1, 'a', null]", "{'a': 1}", "double('NaN')", "double('inf')", "duration('1h')",
    "duration('999999999999h')", "timestamp('2025-01-01T00:00:00Z')",
    "timestamp('9999-12-31T23:59:59Z')", "'é💸'", "\"'; DROP TABLE audit_log; --\"",
)  # fmt: skip
_OPERATORS = ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in")


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(NAMES)
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(_OPERATORS), inner),
        st.builds(lambda a: f"!{a}", inner),
        st.builds(lambda a: f"-{a}", inner),
        st.builds(lambda a, b, c: f"({a} ? {b} : {c})", inner, inner, inner),
        st.builds(lambda f, a: f"{f}({a})",
                  st.sampled_from(["size", "int", "uint", "double", "string", "bool",
                                   "timestamp", "duration", "dyn", "type"]), inner),
        st.builds(lambda n: f"has({n})", name),
        st.builds(lambda a, b: f"{a}.startsWith({b})", inner, inner),
        st.builds(lambda a, r: f"{a}.matches({r})", inner,
                  st.sampled_from(["'(a+)+$'", "'['", "'.*'", "''"])),
        st.builds(lambda a: f"metrics.exists(m, m.effect > {a})", inner),
        st.just("metrics.exists(a, metrics.all(b, a.id == b.id))"),
        st.builds(lambda a: f"{a}.map(x, x)", inner),
        st.builds(lambda a, b: f"[{a}, {b}]", inner, inner),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(lambda a: f"action.context[{a}]", inner),
    )  # fmt: skip


cel_operand = st.recursive(
    st.one_of(st.sampled_from(NAMES), st.sampled_from(CEL_LITERALS)), _combine, max_leaves=6
)


@st.composite
def cel_expression(draw: Draw) -> str:
    """A condition: mostly a comparison (so that it may be true or false and reach a
    decision), sometimes anything, now and then deep in parentheses."""
    expr = draw(st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", cel_operand,
                  st.sampled_from(["==", "!=", "<", ">", ">=", "&&", "||"]), cel_operand),
        cel_operand,
    ))  # fmt: skip
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.sampled_from([20, 200, 5_000, 100_000]))
        expr = "(" * depth + expr + ")" * depth
    return expr

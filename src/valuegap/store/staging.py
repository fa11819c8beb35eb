"""Reading an input file into a temporary table: every column as text, each row numbered.

DuckDB reads the file itself (CSV, gzip-compressed CSV, or Parquet), so a file never has to fit
in Python's memory. Rows are numbered from 1, the first row after the header. Validation then
asks SQL for the first bad value of each column, so that an error names file, row, column and
value.

A numbered CSV stage is a table read on every core in the file's order (DuckDB keeps the order
of the rows it inserts, and gives them consecutive row ids), and a view that numbers its rows
by their row id: numbering rows while reading would make DuckDB read on one thread. A large
file that needs row numbers only to name a bad value can be staged unnumbered, as a view over
the file: the rows are numbered only when a check fails.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import duckdb

from valuegap.errors import Found, IngestError, Problem
from valuegap.inputs import (
    MAX_COLUMN_NAME,
    MAX_LINE_BYTES,
    content_problem,
    file_not_utf8,
    file_problem,
    is_gzip_name,
)
from valuegap.records import record
from valuegap.sources import Input
from valuegap.store.database import Database
from valuegap.words import counted

STAGE = "_valuegap_stage"
NUMBERED = "_valuegap_numbered"
STAGED_ROWS = "_valuegap_stage_rows"  # a numbered CSV stage's rows, in the file's order


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Text to DECIMAL(38, 10): DuckDB parses into a 128-bit decimal about fifty times slower than into
# a 64-bit one, so values that fit DECIMAL(18, 10) (below 100 million) take the fast path.
DECIMAL_SQL = "coalesce(TRY_CAST({v} AS DECIMAL(18, 10)), TRY_CAST({v} AS DECIMAL(38, 10)))"


def as_decimal(sql: str) -> str:
    return DECIMAL_SQL.replace("{v}", sql)


# Text to a bounded amount (``valuegap.bounds``), or null when it is not a number or too large:
# the DECIMAL's digits before the point are the bound, so one conversion checks both.
def as_amount(sql: str) -> str:
    """A cost line's amount: less than 10^15 in size."""
    return f"coalesce(TRY_CAST({sql} AS DECIMAL(18, 10)), TRY_CAST({sql} AS DECIMAL(25, 10)))"


def as_usage_cost(sql: str) -> str:
    """A usage event's cost: less than 10^7 in size (a 64-bit decimal, fast to parse)."""
    return f"TRY_CAST({sql} AS DECIMAL(17, 10))"


def negative(sql: str, converted: str) -> str:
    """SQL: the text ``sql`` is a negative number (``converted`` is its value); the cheap
    test of its sign first, so that only a minus sign costs a conversion."""
    return f"(starts_with(ltrim({sql}), '-') AND {converted} < 0)"


# The years a date or timestamp may fall in. One outside them (infinity, 9999-12-31 as "no
# end", year 0) is a mistake, and one past what Python and Arrow hold would break every report
# that spreads or groups by month; it is refused at ingest. Tested on the text, which is cheap
# beside a conversion: an ISO date begins with its year and a hyphen.
FIRST_YEAR, LAST_YEAR = 1970, 2099
IN_YEARS = f"substr(ltrim({{v}}), 1, 5) BETWEEN '{FIRST_YEAR}-' AND '{LAST_YEAR}-'"
YEARS = f"from {FIRST_YEAR} to {LAST_YEAR}"

# Text to a UTC timestamp (null outside the years). Reading through TIMESTAMPTZ honours an
# offset but is slow; the two forms that cannot carry one ("2025-01-01 10:00:00" and "...Z")
# take the fast path.
UTC_SQL = (
    f"CASE WHEN NOT ({IN_YEARS}) THEN NULL "
    "WHEN length({v}) = 19 OR suffix({v}, 'Z') THEN TRY_CAST({v} AS TIMESTAMP) "
    "ELSE timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) END"
)


def as_utc(sql: str) -> str:
    return UTC_SQL.replace("{v}", sql)


def as_date(sql: str) -> str:
    """Text to a date, null outside the years."""
    return f"CASE WHEN {IN_YEARS} THEN TRY_CAST({{v}} AS DATE) END".replace("{v}", sql)


@record
class Check:
    """A rule a staged column must keep: ``condition`` is SQL over ``{v}`` (the value) that is
    true for a bad value; ``label`` is the column as the user knows it."""

    column: str
    condition: str
    message: str
    label: str | None = None


class BrokenRow(Exception):
    """An insert met a value that breaks a check (see ``fail_if``): nothing was stored, and the
    loader, asked to check first, names the row."""


_BROKEN = "valuegap: a row breaks a check"
_FAIL = f"error('{_BROKEN}')"


def fail_if(condition: str, sql: str) -> str:
    """SQL for ``sql``, except that the statement fails where ``condition`` holds. A loader
    checks values as it converts them, in its insert, and only after such a failure reads the
    file again to find the bad rows: a file is then read once for its checks only when it has
    a bad value. A guard may be stricter than its checks (the load then takes the slow way),
    never laxer."""
    return f"CASE WHEN {condition} THEN {_FAIL} ELSE {sql} END"


def guarded(sql: str, checks: Sequence[Check], column: str) -> str:
    """``sql``, except that the statement fails where the staged ``column`` breaks one of its
    ``checks``."""
    broken = [c.condition.replace("{v}", quote(c.column)) for c in checks if c.column == column]
    return fail_if(" OR ".join(f"({b})" for b in broken), sql) if broken else sql


def fail_if_null(converted: str, *, unless_null: str | None = None) -> str:
    """``converted``, except that the statement fails where it is null, unless the value it
    converts, ``unless_null``, is null too (an optional value): for checks that hold exactly
    when a conversion gives null, without converting twice as a CASE on them would."""
    checked = f"coalesce({converted}, {_FAIL})"
    return (
        checked
        if unless_null is None
        else f"CASE WHEN {unless_null} IS NOT NULL THEN {checked} END"
    )


def raise_read_failure(source: Input, exc: duckdb.Error) -> NoReturn:
    """Raise ``BrokenRow`` if ``exc`` is a guard's failure, else the ``IngestError`` of a file
    DuckDB could not read (``read_error``)."""
    if _BROKEN in str(exc):
        raise BrokenRow(source.name) from exc
    raise read_error(source, exc) from exc


def first_bad_rows(db: Database, table: str, checks: list[Check]) -> list[tuple[Check, int, Found]]:
    """One scan for all checks: the first bad row of each, with its value. A table without
    ``_row`` is scanned once to see whether anything is bad, and numbered only if so."""
    if not checks:
        return []
    if not any(r["column_name"] == "_row" for r in db.all(f"DESCRIBE {table}")):
        flags = ", ".join(f"bool_or({c.condition.replace('{v}', quote(c.column))})" for c in checks)
        if not any(db.one(f"SELECT {flags} FROM {table}") or ()):
            return []
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE {NUMBERED} AS "
            f"SELECT row_number() OVER () AS _row, * FROM {table}"
        )
        table = NUMBERED
    selects = ", ".join(
        f"min(_row) FILTER (WHERE {c.condition.replace('{v}', quote(c.column))})" for c in checks
    )
    row = db.one(f"SELECT {selects} FROM {table}") or ()
    found = []
    for check, bad in zip(checks, row, strict=True):
        if bad is not None:
            value = db.one(f"SELECT {quote(check.column)} FROM {table} WHERE _row = ?", [bad])
            found.append((check, int(bad), value[0] if value else None))
    return found


def refuse_bad_rows(db: Database, table: str, file: str, checks: list[Check]) -> None:
    """Raise ``IngestError`` naming, in row order, the first bad row of each check."""
    found = sorted(first_bad_rows(db, table, checks), key=lambda bad: bad[1])
    problems = [
        IngestError.at(file, row, check.label or check.column, value, check.message)
        for check, row, value in found
    ]
    if problems:
        raise IngestError(file, problems)


@record
class Staged:
    source: Input
    columns: list[str]  # as spelled in the file
    rows: int | None  # None for a CSV view, whose file is not read until it is used
    numbered: bool  # has _row

    @property
    def file(self) -> str:
        """The source's name, as messages give it."""
        return self.source.name

    def column(self, name: str) -> str | None:
        """The file's spelling of a column, matched without regard to letter case."""
        wanted = name.lower()
        return next((c for c in self.columns if c.lower() == wanted), None)


# What a loader stages of a file: SQL over the SELECT of its rows as text (``rows``), from the
# file's columns; ``numbered``: the rows already have ``_row``.
Project = Callable[[list[str], str, bool], str]


def stage_file(
    db: Database,
    source: Input,
    *,
    numbered: bool = True,
    project: Project | None = None,
    required: Sequence[str] = (),
) -> Staged:
    """Read ``source`` into the staging table, replacing what was staged before; unnumbered, a
    CSV file is staged as a view that reads the file each time it is used, and whoever uses
    it must turn a broken row's ``duckdb.Error`` into ``read_error``. ``project`` stages what
    a loader makes of the rows instead of their text, as the file is read (a guard's failure
    in it raises ``BrokenRow``). ``required``: the columns a file of this kind always has; a
    CSV file whose rows cannot be read and that lacks them is refused naming them, not its
    rows (it is most likely another kind of file)."""
    file, path = source.name, source.file
    view = not numbered and path.suffix.lower() != ".parquet"
    problem = file_problem(path, file)
    if problem is None and (view or is_gzip_name(path)):
        # DuckDB checks the encoding of the columns it reads, and a view reads only some
        problem = content_problem(path, utf8=view, name=file)
    if problem is not None:
        raise IngestError(file, [problem])
    try:
        if path.suffix.lower() == ".parquet":
            _stage_parquet(db, path, numbered, project)
        else:
            _stage_csv(db, source, numbered, project, required)
        row = None if view else db.one(f"SELECT count(*) FROM {STAGE}")
    except duckdb.Error as exc:
        raise_read_failure(source, exc)
    names = [str(r["column_name"]) for r in db.all(f"DESCRIBE {STAGE}")]
    columns = [name for name in names if name != "_row"]
    rows = None if view else int(row[0]) if row else 0
    return Staged(source, columns, rows, "_row" in names)


def _stage_csv(
    db: Database, source: Input, numbered: bool, project: Project | None, required: Sequence[str]
) -> None:
    header = _csv_header(source)
    try:
        _read_csv(db, source, header, numbered, project)
    except duckdb.Error as exc:
        if _BROKEN not in str(exc) and (missing := _missing(source.name, header, required)):
            raise IngestError(source.name, missing) from None
        raise


def _missing(file: str, header: list[str], required: Sequence[str]) -> list[Problem]:
    spelled = {c.lower() for c in header}
    message = (
        f"is missing: this is not the kind of file expected (its header: {','.join(required)})"
    )
    missing = [c for c in required if c.lower() not in spelled]
    return [IngestError.at(file, None, c, None, message) for c in missing]


def _read_csv(
    db: Database, source: Input, header: list[str], numbered: bool, project: Project | None
) -> None:
    file, path = source.name, source.file
    duplicates = {c for c in header if [h.lower() for h in header].count(c.lower()) > 1}
    if duplicates or not header or any(not c.strip() for c in header):
        found = ", ".join(sorted(duplicates)) or "an empty column name"
        message = "column names must be present and unique"
        raise IngestError(file, [IngestError.at(file, None, "(header)", found, message)])
    columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
    read = (
        f"read_csv({literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', nullstr = ['NULL', ''], columns = {columns}, "
        f"max_line_size = {MAX_LINE_BYTES})"
    )
    rows = f"SELECT * FROM {read}"
    if project is not None:
        rows = project(header, rows, False)
    if numbered:
        drop_stage(db)
        db.execute(f"CREATE TEMP TABLE {STAGED_ROWS} AS {rows}")
        # Row ids follow the file's order, from a first id that is not 0 inside a transaction.
        first = db.one(f"SELECT coalesce(min(rowid), 0) FROM {STAGED_ROWS}")
        db.execute(
            f"CREATE TEMP VIEW {STAGE} AS "
            f"SELECT rowid - {int(first[0]) if first else 0} + 1 AS _row, * FROM {STAGED_ROWS}"
        )
    else:
        _create_stage(db, False, rows)


def drop_stage(db: Database) -> None:
    for name in (STAGE, NUMBERED, STAGED_ROWS):
        found = db.one("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                       [name])  # fmt: skip
        if found:
            db.execute(f"DROP {'VIEW' if found[0] == 'VIEW' else 'TABLE'} {name}")


def _create_stage(db: Database, table: bool, select: str) -> None:
    drop_stage(db)
    db.execute(f"CREATE TEMP {'TABLE' if table else 'VIEW'} {STAGE} AS {select}")


def _stage_parquet(db: Database, path: Path, numbered: bool, project: Project | None) -> None:
    described = db.all("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
    selects = []
    for column in described:
        name, kind = str(column["column_name"]), str(column["column_type"])
        text = f"to_json({quote(name)})" if kind.startswith(("MAP", "STRUCT")) else quote(name)
        # as in CSV, the text NULL and the empty string are nulls
        selects.append(f"nullif(nullif(CAST({text} AS VARCHAR), 'NULL'), '') AS {quote(name)}")
    # Parquet gives row numbers cheaply: an unnumbered stage is a view that still has them.
    rows = (
        f"SELECT file_row_number + 1 AS _row, {', '.join(selects)} "
        f"FROM read_parquet({literal(str(path))}, file_row_number = true)"
    )
    if project is not None:
        rows = project([str(c["column_name"]) for c in described], rows, True)
    _create_stage(db, numbered, rows)


def _csv_header(source: Input) -> list[str]:
    """The column names on the first line, read by Python: DuckDB is told them."""
    file, path = source.name, source.file
    with (gzip.open if is_gzip_name(path) else open)(path, "rb") as handle:
        line = handle.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise IngestError(file, [_too_long(file, 1, None)])
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(file, [file_not_utf8(path, file)]) from None
    try:
        header = next(csv.reader([text]), [])
    except csv.Error as exc:  # a field longer than the csv module's limit, most often
        message = (
            f"a column name is longer than {MAX_COLUMN_NAME:,} characters"
            if "field limit" in str(exc)
            else f"cannot be read as a CSV header ({exc})"
        )
        raise IngestError(file, [IngestError.at(file, None, "(header)", None, message)]) from None
    for name in header:
        if len(name) > MAX_COLUMN_NAME:
            message = f"is a column name longer than {MAX_COLUMN_NAME:,} characters"
            raise IngestError(file, [IngestError.at(file, None, "(header)", name, message)])
    return header


def _too_long(file: str, line: int, size: int | None) -> Problem:
    found = f" ({size:,} bytes)" if size else ""
    return Problem(
        f"{file}, line {line}",
        f"is longer than the limit of {MAX_LINE_BYTES:,} bytes a line{found}: a value this "
        "long is not ledger data; check that this is the file you meant",
    )


def literal(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def read_error(source: Input, exc: duckdb.Error) -> IngestError:
    """A file DuckDB could not read (a broken CSV row, most often) as an ``IngestError``. The
    row's text is not shown: it may be any file's, and the row number finds it."""
    file = source.name
    text = str(exc).replace(str(source.file), file)  # a copy of a stream goes by its name
    if "Invalid unicode" in text:
        return IngestError(file, [file_not_utf8(source.file, file)])
    if "No magic bytes found" in text:
        message = "is not a whole Parquet file: it is cut short, or another kind of file"
        return IngestError(file, [Problem(file, message)])
    line = re.search(r"Line: (\d+)", text)
    too_long = re.search(r"Maximum line size of \d+ bytes exceeded\. Actual Size:(\d+)", text)
    if too_long and line:
        return IngestError(file, [_too_long(file, int(line.group(1)), int(too_long.group(1)))])
    row = int(line.group(1)) - 1 if line else None
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        expected, found = columns.groups()
        message = (
            f"has {counted(int(found), 'value')}, but the header has "
            f"{counted(int(expected), 'column')}: check the row's "
            "commas and quotes"
        )
    else:
        explained = [t for t in text.splitlines()[1:] if t.strip() and "Original Line" not in t]
        reason = text.splitlines()[0].split("Error: ", 1)[-1]
        message = explained[0] if line and explained else reason
    return IngestError(file, [IngestError.at(file, row, "(row)", None, message)])

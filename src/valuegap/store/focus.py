"""Loading a staged FOCUS export into ``focus_lines``: check, convert, skip what is stored."""

from __future__ import annotations

import duckdb

from valuegap.costs.focus import CHARGE_CATEGORIES, COLUMNS, PROVIDER_COLUMNS, FocusColumn
from valuegap.errors import IngestError, Problem
from valuegap.store.database import Database
from valuegap.store.staging import (
    STAGE,
    Check,
    Staged,
    as_decimal,
    as_utc,
    fail_if_null,
    guarded,
    literal,
    quote,
    raise_if_broken,
    refuse_bad_rows,
)

_CONVERT = {
    "text": "{v}",
    "timestamp": as_utc("{v}"),
    "decimal": as_decimal("{v}"),
    "currency": "upper(trim({v}))",
    "json": "TRY_CAST(TRY_CAST({v} AS JSON) AS MAP(VARCHAR, VARCHAR))",
}
_BAD = {
    "timestamp": (f"{as_utc('{v}')} IS NULL", "is not a timestamp (ISO 8601, e.g. "
                  "2025-01-01T00:00:00Z; without a zone it is read as UTC)"),
    "decimal": (f"{as_decimal('{v}')} IS NULL", "is not a decimal number"),
    "currency": ("NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')",
                 "is not an ISO 4217 currency code such as USD"),
    "json": ("json_type(TRY_CAST({v} AS JSON)) IS DISTINCT FROM 'OBJECT'",
             "is not a JSON object such as {\"team\": \"ml\"}"),
}  # fmt: skip


def load_focus(db: Database, staged: Staged, ingest_id: int, *, checks_first: bool = False) -> int:
    """Insert the staged lines that are not stored yet; return how many were added. A bad
    value makes the insert fail with ``BrokenRow``; ``checks_first`` looks for bad rows first,
    to name them."""
    present = {c.name: staged.column(c.name) for c in COLUMNS}
    providers = [p for p in (staged.column(n) for n in PROVIDER_COLUMNS) if p]
    checks = _checks(staged.file, present, providers)
    if checks_first:
        refuse_bad_rows(db, STAGE, staged.file, checks)

    def value(column: FocusColumn) -> str:
        name = present[column.name]
        if name is None:
            return "NULL"
        converted = _CONVERT[column.type].replace("{v}", quote(name))
        return converted if checks_first else _guarded(column, name, converted, checks)

    known = {n.lower() for n in [*present.values(), *providers] if n}
    extras = [c for c in staged.columns if c.lower() not in known]
    extra = (
        f"map([{', '.join(literal(c) for c in extras)}], [{', '.join(quote(c) for c in extras)}])"
        if extras else "NULL"
    )  # fmt: skip
    provider = f"coalesce({', '.join(quote(p) for p in providers)})"
    provider = provider if checks_first else fail_if_null(provider)  # its check: all null
    fields = ", ".join(c.field for c in COLUMNS)
    # A line's key is its content's hash (staged as _hash) and, for identical lines, its
    # occurrence: re-ingesting a file, or one that overlaps it, adds only the lines not stored
    # yet. Most exports repeat no line, and then numbering occurrences is left out: it costs
    # as much as the rest of the insert.
    repeats = db.one(f"SELECT count(*) - count(DISTINCT _hash) FROM {STAGE}")
    occurrence = "row_number() OVER (PARTITION BY _hash)" if repeats and repeats[0] else "1"
    # Every line is checked as it is converted (unless the checks came first), before those
    # already stored are left out.
    try:
        with db.unordered():
            added = db.one(
                f"""INSERT INTO focus_lines (line_hash, occurrence, ingest_id, source_row,
                    provider, extra, {fields})
                WITH checked AS (
                    SELECT _hash AS line_hash, {occurrence} AS occurrence, _row,
                        {provider} AS provider, {extra} AS extra,
                        {", ".join(f"{value(c)} AS {c.field}" for c in COLUMNS)}
                    FROM {STAGE}
                )
                SELECT line_hash, occurrence, ?, _row, provider, extra, {fields}
                FROM checked ANTI JOIN focus_lines USING (line_hash, occurrence)""",
                [ingest_id],
            )
    except duckdb.InvalidInputException as exc:
        raise_if_broken(staged.file, exc)
        raise
    return int(added[0]) if added else 0


def _guarded(column: FocusColumn, name: str, converted: str, checks: list[Check]) -> str:
    """``converted``, unless the staged column ``name`` breaks one of its ``checks``."""
    if column.type not in ("timestamp", "decimal"):
        return guarded(converted, checks, name)
    # its checks hold exactly when it converts to null
    return fail_if_null(converted, unless_null=None if column.required else quote(name))


def _checks(file: str, present: dict[str, str | None], providers: list[str]) -> list[Check]:
    """What each staged value must keep; a missing column is refused at once."""
    problems: list[Problem] = [
        IngestError.at(file, None, c.name, None, "is a required FOCUS column but is missing")
        for c in COLUMNS
        if c.required and present[c.name] is None
    ]
    if not providers:
        problems.append(IngestError.at(
            file, None, "ServiceProviderName", None,
            "is missing, and so is the older ProviderName: one of them is required",
        ))  # fmt: skip
    if problems:
        raise IngestError(file, problems)
    checks: list[Check] = []
    for column in COLUMNS:
        name = present[column.name]
        if name is None:
            continue
        if column.required:
            checks.append(Check(name, "{v} IS NULL", "is required; the value is empty"))
        if column.type in _BAD:
            condition, message = _BAD[column.type]
            checks.append(Check(name, f"{{v}} IS NOT NULL AND ({condition})", message))
    charge = present["ChargeCategory"]
    if charge:
        categories = ", ".join(literal(c) for c in CHARGE_CATEGORIES)
        checks.append(Check(charge, f"{{v}} NOT IN ({categories})",
                            f"must be one of {', '.join(CHARGE_CATEGORIES)}"))  # fmt: skip
    checks.append(Check(providers[0], " AND ".join(f"{quote(p)} IS NULL" for p in providers),
                        "is required; the value is empty"))  # fmt: skip
    return checks

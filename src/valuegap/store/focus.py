"""Loading a FOCUS export into ``focus_lines``: its lines are staged converted, checked and
identified as the file is read (``stage_focus``); those not stored yet are then inserted. A
file with a bad value is staged again as text, to look for its bad rows and name them."""

from __future__ import annotations

from collections.abc import Callable, Collection

import duckdb

from valuegap.bounds import MAX_AMOUNT, too_large
from valuegap.errors import IngestError, Problem
from valuegap.model.focus import (
    CHARGE_CATEGORIES,
    COLUMNS,
    CORRECTION,
    NOT_NEGATIVE_CATEGORIES,
    PROVIDER_COLUMNS,
    ColumnType,
    FocusColumn,
)
from valuegap.records import record
from valuegap.sources import Input
from valuegap.store.database import Database
from valuegap.store.removal import FILE_KEYS
from valuegap.store.staging import (
    STAGE,
    YEARS,
    Check,
    Staged,
    as_amount,
    as_decimal,
    as_utc,
    fail_if,
    fail_if_null,
    guarded,
    literal,
    negative,
    quote,
    raise_read_failure,
    refuse_bad_rows,
    stage_file,
)

_CONVERT = {
    "text": "{v}",
    "timestamp": as_utc("{v}"),
    "decimal": as_decimal("{v}"),
    "money": as_amount("{v}"),
    "currency": "upper(trim({v}))",
    "json": "TRY_CAST(TRY_CAST({v} AS JSON) AS MAP(VARCHAR, VARCHAR))",
}
_BAD = {
    "timestamp": (f"{as_utc('{v}')} IS NULL", f"is not a timestamp {YEARS} (ISO 8601, e.g. "
                  "2025-01-01T00:00:00Z; without a zone it is read as UTC)"),
    "decimal": (f"{as_decimal('{v}')} IS NULL", "is not a decimal number"),
    "money": (f"{as_decimal('{v}')} IS NULL", "is not a decimal number"),
    "currency": ("NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')",
                 "is not an ISO 4217 currency code such as USD"),
    "json": ("json_type(TRY_CAST({v} AS JSON)) IS DISTINCT FROM 'OBJECT'",
             "is not a JSON object such as {\"team\": \"ml\"}"),
}  # fmt: skip


@record
class _Plan:
    """How a file's columns become a line: SQL over the staged text for each stored field."""

    file: str
    values: dict[str, str]  # field -> its converted value (provider and extra included)
    identity: str  # over the converted values and the raw identifying extras (raw:<name>)
    raw: dict[str, str]  # raw:<name> -> the staged column of an identifying extra
    checks: list[Check]

    def select(self) -> str:
        """The converted fields and the raw identifying extras, from staged text."""
        values = [f"{sql} AS {field}" for field, sql in self.values.items()]
        raws = [f"{quote(column)} AS {quote(name)}" for name, column in self.raw.items()]
        return ", ".join([*values, *raws])


def _plan(file: str, columns: list[str], *, guards: bool, bounded: bool = True) -> _Plan:
    """The plan for a file with ``columns``; ``guards``: a bad value fails the statement that
    converts it (``BrokenRow``), instead of being looked for first; not ``bounded``: a cost
    may be any DECIMAL(38, 10) of either sign (to find lines stored before the bounds)."""

    def column(name: str) -> str | None:
        return next((c for c in columns if c.lower() == name.lower()), None)

    present = {c.name: column(c.name) for c in COLUMNS}
    providers = [p for p in (column(n) for n in PROVIDER_COLUMNS) if p]
    charge_class = column("ChargeClass")
    checks = _checks(file, present, providers, charge_class, bounded)

    def value(focus: FocusColumn) -> str:
        name = present[focus.name]
        if name is None:
            return "NULL"
        kind = focus.type if bounded or focus.type != "money" else "decimal"
        converted = _CONVERT[kind].replace("{v}", quote(name))
        if not guards:
            return converted
        checked = _guarded(focus, name, converted, checks)
        if focus.type == "money" and bounded:
            sign = _refused_negative(name, present["ChargeCategory"], charge_class)
            checked = fail_if(sign.replace("{v}", quote(name)), checked)
        return checked

    known = {n.lower() for n in [*present.values(), *providers] if n}
    extras = [c for c in columns if c.lower() not in known]
    names, values = ", ".join(literal(c) for c in extras), ", ".join(quote(c) for c in extras)
    provider = f"coalesce({', '.join(quote(p) for p in providers)})"
    fields = {
        "provider": fail_if_null(provider) if guards else provider,  # its check: all null
        "extra": f"map([{names}], [{values}])" if extras else "NULL",
        **{c.field: value(c) for c in COLUMNS},
    }
    identifying = {n: c for n in IDENTITY_EXTRAS if (c := column(n)) in extras}
    absent = {c.field for c in COLUMNS if present[c.name] is None}
    identity = line_identity(lambda n: quote("raw:" + n) if n in identifying else None, absent)
    raw = {"raw:" + n: c for n, c in identifying.items()}
    return _Plan(file, fields, identity, raw, checks)


def stage_focus(db: Database, source: Input, *, bounded: bool = True) -> Staged:
    """Stage a FOCUS export as lines: each value converted and checked as the file is read (a
    bad value raises ``BrokenRow``), and each line's identity (``line_hash``)."""

    def lines(columns: list[str], rows: str, numbered: bool) -> str:
        plan = _plan(source.name, columns, guards=True, bounded=bounded)
        inner = f"SELECT {'_row, ' if numbered else ''}{plan.select()} FROM ({rows})"
        raw = f" EXCLUDE ({', '.join(map(quote, plan.raw))})" if plan.raw else ""
        return f"SELECT {plan.identity} AS line_hash, *{raw} FROM ({inner})"

    return stage_file(db, source, project=lines)


_FIELDS = ", ".join(["provider", "extra", *(c.field for c in COLUMNS)])


def load_focus(db: Database, staged: Staged, ingest_id: int, *, checks_first: bool = False) -> int:
    """Insert the staged lines that are not stored yet; return how many were added. The lines
    are staged converted and checked (``stage_focus``), or, with ``checks_first``, as text
    (``stage_file``), to look for bad rows first and name them.

    A line's key is the hash of its values (``line_identity``) and, among lines of equal
    values, its occurrence: re-ingesting a file, or one that overlaps it, in any format or
    spelling, adds only the lines not stored yet. Most exports repeat no line, and then
    numbering occurrences is left out: it costs as much as the rest of the insert."""
    lines, occurrence = _identified(db, staged, checks_first)
    try:
        with db.unordered():
            added = db.one(
                f"""INSERT INTO focus_lines (line_hash, occurrence, ingest_id, source_row,
                    {_FIELDS})
                WITH identified AS (SELECT *, {occurrence} AS occurrence FROM ({lines}))
                SELECT line_hash, occurrence, ?, _row, {_FIELDS}
                FROM identified ANTI JOIN focus_lines USING (line_hash, occurrence)""",
                [ingest_id],
            )
    except duckdb.InvalidInputException as exc:
        raise_read_failure(staged.source, exc)
    return int(added[0]) if added else 0


def focus_keys(db: Database, staged: Staged, *, checks_first: bool = False) -> None:
    """Write the keys of the staged lines, as ``load_focus`` would store them, to the table
    ``FILE_KEYS`` (``line_hash``, ``occurrence``), storing nothing. Costs are not bounded
    (stage with ``stage_focus(bounded=False)``): a line stored before the bounds has a key."""
    lines, occurrence = _identified(db, staged, checks_first, bounded=False)
    try:
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {FILE_KEYS} AS
            SELECT line_hash, {occurrence} AS occurrence FROM ({lines})"""
        )
    except duckdb.InvalidInputException as exc:
        raise_read_failure(staged.source, exc)


def _identified(
    db: Database, staged: Staged, checks_first: bool, *, bounded: bool = True
) -> tuple[str, str]:
    """SQL for the staged lines with their ``line_hash``, and for their occurrence among
    lines of equal values (see ``load_focus``)."""
    if checks_first:
        plan = _plan(staged.file, staged.columns, guards=False, bounded=bounded)
        refuse_bad_rows(db, STAGE, staged.file, plan.checks)
        lines = f"""SELECT {plan.identity} AS line_hash, * FROM (
            SELECT _row, {plan.select()} FROM {STAGE})"""
    else:
        lines = f"SELECT * FROM {STAGE}"
    repeats = db.one(f"SELECT count(*) - count(DISTINCT line_hash) FROM ({lines})")
    occurrence = "row_number() OVER (PARTITION BY line_hash)" if repeats and repeats[0] else "1"
    return lines, occurrence


# What identifies a line: its values, typed and normalised, so that any format and spelling of
# the same line (CSV or Parquet, 2026-03-01T00:00:00Z or 2026-03-01 00:00:00, 1.5 or 1.50, tags
# in any order) is the same line. These are the FOCUS columns valuegap stores, and the FOCUS
# columns it keeps among the extras that tell one charge from another (a provider's x_ columns
# are not part of it: they are spelled too many ways). Migration 7 keyed the lines stored
# before it in the same way.
IDENTITY_FIELDS = (
    "billing_account_id",
    "sub_account_id",
    "provider",
    "invoice_issuer",
    "invoice_id",
    "service_name",
    "service_category",
    "charge_category",
    "charge_description",
    "resource_id",
    "region_id",
    "billing_period_start",
    "charge_period_start",
    "charge_period_end",
    "billing_currency",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "consumed_quantity",
    "consumed_unit",
)
_IDENTITY_TIMESTAMPS = ("BillingPeriodEnd",)
_IDENTITY_DECIMALS = (
    "PricingQuantity",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "CommitmentDiscountQuantity",
)
_IDENTITY_TEXTS = (
    "ChargeClass",
    "ChargeFrequency",
    "PricingCategory",
    "PricingUnit",
    "SkuId",
    "SkuPriceId",
    "SkuMeter",
    "ResourceName",
    "ResourceType",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "CapacityReservationId",
    "ServiceSubcategory",
    "HostProviderName",
    "PublisherName",
)
IDENTITY_EXTRAS: dict[str, ColumnType] = {
    **dict.fromkeys(_IDENTITY_TIMESTAMPS, "timestamp"),
    **dict.fromkeys(_IDENTITY_DECIMALS, "decimal"),
    **dict.fromkeys(_IDENTITY_TEXTS, "text"),
}


_DECIMALS = {c.field for c in COLUMNS if c.type in ("decimal", "money")}


def _text(sql: str, kind: ColumnType) -> str:
    """SQL for a typed value as text. A DECIMAL(38, 10) becomes text seven times faster
    through DECIMAL(18, 10), where it fits (the same text)."""
    if kind == "decimal":
        return (
            f"coalesce(CAST(TRY_CAST({sql} AS DECIMAL(18, 10)) AS VARCHAR), CAST({sql} AS VARCHAR))"
        )
    return f"CAST({sql} AS VARCHAR)"


_TAG_TEXT = (  # sorted by key; a map of one entry needs no sorting (a fifth of the cost)
    "CASE WHEN cardinality(tags) > 1 THEN CAST(list_sort(map_entries(tags)) AS VARCHAR) "
    "ELSE CAST(map_entries(tags) AS VARCHAR) END"
)


def line_identity(extra: Callable[[str], str | None], absent: Collection[str] = ()) -> str:
    """SQL for a line's identity (a UUID) over its stored fields, ``tags`` and, by
    ``extra(name)``, the raw text of the identifying extras (None: the line has none).
    ``absent``: fields that are null in every line (their text is a constant, which DuckDB
    does not have to build for each line)."""
    values: list[_Value] = [
        None
        if f in absent
        else (_text(f, "decimal" if f in _DECIMALS else "text"), f not in _REQUIRED)
        for f in IDENTITY_FIELDS
    ]
    values.append(None if "tags" in absent else (_TAG_TEXT, True))
    for name, kind in IDENTITY_EXTRAS.items():
        raw = extra(name)
        values.append(
            None if raw is None else (_text(_CONVERT[kind].replace("{v}", raw), kind), True)
        )
    return f"CAST(md5(concat_ws(chr(31), {', '.join(_texts(values))})) AS UUID)"


# A value's text and whether it may be null; None for a constant null.
_Value = tuple[str, bool] | None
# Fields a stored line always has (its checks refuse a line without them).
_REQUIRED = {c.field for c in COLUMNS if c.required} | {"provider"}


def _texts(values: list[_Value]) -> list[str]:
    """concat_ws's arguments for ``values``, a null as chr(30); each run of constant nulls is
    one constant argument (DuckDB joins every argument again for each line)."""
    found: list[str] = []
    nulls = 0
    for value in [*values, ("", False)]:
        if value is None:
            nulls += 1
            continue
        if nulls:
            found.append(f"repeat(chr(30) || chr(31), {nulls - 1}) || chr(30)")
            nulls = 0
        text, nullable = value
        if text:
            found.append(f"coalesce({text}, chr(30))" if nullable else text)
    return found


def stored_extra(name: str) -> str:
    """SQL for an extra's raw text in a stored line's ``extra`` map, letter case aside."""
    return f"list_filter(map_entries(extra), e -> lower(e.key) = {literal(name.lower())})[1].value"


def _guarded(column: FocusColumn, name: str, converted: str, checks: list[Check]) -> str:
    """``converted``, unless the staged column ``name`` breaks one of its ``checks``."""
    if column.type not in ("timestamp", "decimal", "money", "json"):
        return guarded(converted, checks, name)
    # its checks hold exactly when it converts to null (Tags: exactly when it is not a JSON
    # object), which saves converting it twice
    return fail_if_null(converted, unless_null=None if column.required else quote(name))


def _refused_negative(name: str, charge: str | None, charge_class: str | None) -> str:
    """SQL over ``{v}``, the cost column ``name``: a negative cost on a line whose category
    may not have one (see ``NOT_NEGATIVE_CATEGORIES``)."""
    categories = ", ".join(literal(c) for c in NOT_NEGATIVE_CATEGORIES)
    correction = (
        f" AND {quote(charge_class)} IS DISTINCT FROM {literal(CORRECTION)}" if charge_class else ""
    )
    return (
        f"{negative('{v}', as_amount('{v}'))} AND {quote(charge or name)} IN ({categories})"
        f"{correction}"
    )


def _checks(
    file: str,
    present: dict[str, str | None],
    providers: list[str],
    charge_class: str | None,
    bounded: bool,
) -> list[Check]:
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
        if column.type == "money" and bounded:
            amount = as_amount("{v}")
            checks.append(
                Check(
                    name,
                    f"{as_decimal('{v}')} IS NOT NULL AND {amount} IS NULL",
                    too_large("a cost", MAX_AMOUNT),
                )
            )
            categories = " or ".join(NOT_NEGATIVE_CATEGORIES)
            sign = _refused_negative(name, present["ChargeCategory"], charge_class)
            checks.append(
                Check(
                    name,
                    sign,
                    f"is negative on a {categories} line: a refund, "
                    "discount or credit is a Credit line, a later change an "
                    "Adjustment, a correction of an earlier billing period has "
                    "ChargeClass Correction",
                )
            )
    charge = present["ChargeCategory"]
    if charge:
        categories = ", ".join(literal(c) for c in CHARGE_CATEGORIES)
        checks.append(Check(charge, f"{{v}} NOT IN ({categories})",
                            f"must be one of {', '.join(CHARGE_CATEGORIES)}"))  # fmt: skip
    checks.append(Check(providers[0], " AND ".join(f"{quote(p)} IS NULL" for p in providers),
                        "is required; the value is empty"))  # fmt: skip
    return checks

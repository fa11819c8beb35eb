"""Loading staged manual cost entries (and currency rates) into the ledger."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from valuegap.bounds import MAX_AMOUNT, MAX_RATE, MIN_RATE, too_large
from valuegap.decimals import plain
from valuegap.errors import IngestError
from valuegap.model.manual import (
    CATEGORIES,
    HEADER,
    KINDS,
    PEOPLE_COLUMNS,
    spread,
)
from valuegap.months import whole_months
from valuegap.store.database import Database
from valuegap.store.staging import (
    STAGE,
    YEARS,
    Check,
    Staged,
    as_amount,
    as_date,
    as_decimal,
    negative,
    quote,
    refuse_bad_rows,
)
from valuegap.words import counted

_DATE = f"{as_date('{v}')} IS NULL"
_DECIMAL = f"{as_decimal('{v}')} IS NULL"
_KINDS = ", ".join(f"'{k}'" for k in KINDS)


def load_manual_costs(db: Database, staged: Staged, ingest_id: int) -> int:
    """Validate and insert the staged entries that are not stored yet; return how many."""
    import pyarrow as pa

    columns = _entries(db, staged, ingest_id)
    before = _count(db)
    db.execute(
        "CREATE OR REPLACE TEMP TABLE _valuegap_manual AS SELECT * FROM manual_costs LIMIT 0"
    )
    if columns["entry_key"]:
        db.insert_arrow("_valuegap_manual", pa.table(columns))
    db.execute(
        "INSERT INTO manual_costs SELECT m.* FROM _valuegap_manual m "
        "WHERE m.entry_key NOT IN (SELECT entry_key FROM manual_costs)"
    )
    db.execute("DROP TABLE _valuegap_manual")
    return _count(db) - before


def manual_cost_keys(db: Database, staged: Staged) -> list[str]:
    """The keys of the staged entries, as ``load_manual_costs`` would store them."""
    return sorted({str(key) for key in _entries(db, staged, 0, bounded=False)["entry_key"]})


def _entries(
    db: Database, staged: Staged, ingest_id: int, *, bounded: bool = True
) -> dict[str, list[object]]:
    """The staged entries, checked, as the columns of ``manual_costs``: a row a month. Not
    ``bounded``: amounts of any size and sign (an entry stored before the bounds)."""
    file = staged.file
    people = all(staged.column(c) for c in PEOPLE_COLUMNS)
    missing = [c for c in HEADER if staged.column(c) is None and not (c == "amount" and people)]
    if missing:
        raise IngestError(file, [
            IngestError.at(file, None, c, None, f"is missing; the header is {','.join(HEADER)} "
                           "(people cost may give fte,rate_per_month in place of amount)")
            for c in missing
        ])  # fmt: skip
    col = {c: quote(staged.column(c) or c) for c in (*HEADER, *PEOPLE_COLUMNS, "kind")}
    amount = col["amount"] if staged.column("amount") else "NULL"
    fte = col["fte"] if people else "NULL"
    rate = col["rate_per_month"] if people else "NULL"
    categories = ", ".join(f"'{c}'" for c in CATEGORIES)
    checks: list[tuple[str, str, str]] = [
        ("period_start", f"{{v}} IS NULL OR {_DATE}", f"is not a date {YEARS} (YYYY-MM-DD)"),
        ("period_end", f"{{v}} IS NULL OR {_DATE}", f"is not a date {YEARS} (YYYY-MM-DD)"),
        ("period_end", f"TRY_CAST({{v}} AS DATE) <= TRY_CAST({col['period_start']} AS DATE)",
         "must be after period_start (periods are [start, end))"),
        ("category", f"{{v}} IS NULL OR lower({{v}}) NOT IN ({categories})",
         f"must be one of {', '.join(CATEGORIES)}"),
        ("currency", "{v} IS NULL OR NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')",
         "is not an ISO 4217 currency code such as USD"),
        ("initiative", f"{{v}} IS NULL AND {col['business_unit']} IS NULL",
         "and business_unit are both empty: give one of them"),
        ("initiative", "{v} IS NOT NULL AND {v} NOT IN (SELECT id FROM initiatives)",
         "is not an initiative in this ledger"),
    ]  # fmt: skip
    kind = col["kind"] if staged.column("kind") else "NULL"
    if staged.column("kind"):
        checks.append(
            (
                "kind",
                f"{{v}} IS NOT NULL AND lower(trim({{v}})) NOT IN ({_KINDS})",
                f"must be {' or '.join(KINDS)} (empty: cost)",
            )
        )
    if staged.column("amount"):
        credit = f"lower(trim({kind})) = 'credit'"
        checks += _amount_checks("amount", bounded=bounded, credit=credit)
    for name in PEOPLE_COLUMNS if people else ():
        checks += _amount_checks(name, bounded=bounded)
    checks.append(((staged.column("amount") and "amount") or "fte",
                   f"{amount} IS NULL AND ({fte} IS NULL OR {rate} IS NULL)",
                   "is empty: give amount, or fte and rate_per_month"))  # fmt: skip
    _refuse_bad_rows(db, staged, checks)
    to_amount = as_amount if bounded else as_decimal
    rows = db.all(
        f"""SELECT _row, CAST({col["period_start"]} AS DATE) AS s, CAST({col["period_end"]} AS DATE)
            AS e, lower({col["category"]}) AS category, {to_amount(amount)} AS amount,
            upper(trim({col["currency"]})) AS currency, {col["initiative"]} AS initiative,
            {col["business_unit"]} AS business_unit, {col["description"]} AS description,
            CAST({fte} AS DECIMAL(38, 10)) AS fte, CAST({rate} AS DECIMAL(38, 10)) AS rate
        FROM {STAGE} ORDER BY _row"""
    )
    columns: dict[str, list[object]] = {name: [] for name in (
        "entry_key", "month", "ingest_id", "source_row", "period_start", "period_end",
        "category", "amount", "entry_amount", "currency", "initiative", "business_unit",
        "description", "fte", "rate_per_month",
    )}  # fmt: skip
    seen: dict[str, int] = {}
    for entry in rows:
        total = entry["amount"]
        if total is None:
            months = whole_months(entry["s"], entry["e"])
            if months is None:
                raise IngestError(file, [IngestError.at(
                    file, entry["_row"], "period_start", str(entry["s"]),
                    "people cost from fte and rate_per_month needs a period from the first of a "
                    "month to the first of a later month",
                )])  # fmt: skip
            total = entry["fte"] * entry["rate"] * Decimal(months)
            if bounded and total >= MAX_AMOUNT:
                found = (
                    f"{plain(entry['fte'])} x {plain(entry['rate'])} x {counted(months, 'month')}"
                )
                message = too_large("fte x rate_per_month x months", MAX_AMOUNT)
                problem = IngestError.at(file, entry["_row"], "rate_per_month", found, message)
                raise IngestError(file, [problem])
        content = "|".join(str(entry[k]) for k in entry if k != "_row")
        digest = hashlib.md5(content.encode()).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        for month, share in spread(total, entry["s"], entry["e"]):
            values = (
                f"{digest}-{seen[digest]}", month, ingest_id, entry["_row"], entry["s"], entry["e"],
                entry["category"], share, total, entry["currency"], entry["initiative"],
                entry["business_unit"], entry["description"], entry["fte"], entry["rate"],
            )  # fmt: skip
            for name, value in zip(columns, values, strict=True):
                columns[name].append(value)
    return columns


def load_rates(db: Database, staged: Staged) -> int:
    """Currency rates ``valid_from,from_currency,to_currency,rate``; a rate given again for the
    same day and pair replaces the earlier one. Returns how many rows were new or changed."""
    file = staged.file
    header = ("valid_from", "from_currency", "to_currency", "rate")
    missing = [c for c in header if staged.column(c) is None]
    if missing:
        raise IngestError(file, [IngestError.at(file, None, c, None, "is missing; the header is "
                                                + ",".join(header)) for c in missing])  # fmt: skip
    currency = "{v} IS NULL OR NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')"
    checks = [
        ("valid_from", f"{{v}} IS NULL OR {_DATE}", f"is not a date {YEARS} (YYYY-MM-DD)"),
        ("from_currency", currency, "is not an ISO 4217 currency code"),
        ("to_currency", currency, "is not an ISO 4217 currency code"),
        ("rate", f"{{v}} IS NULL OR {_DECIMAL} OR TRY_CAST({{v}} AS DECIMAL(38, 10)) <= 0",
         "is not a positive decimal number"),
        ("rate", f"TRY_CAST({{v}} AS DECIMAL(38, 10)) NOT BETWEEN {MIN_RATE} AND {MAX_RATE}",
         f"is out of range: a rate is from {MIN_RATE} to {MAX_RATE:,} (so that every converted "
         "total fits); check which currency is from and which is to"),
    ]  # fmt: skip
    _refuse_bad_rows(db, staged, checks)
    c = {name: quote(staged.column(name) or name) for name in header}
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _valuegap_rates AS
        SELECT DISTINCT ON (valid_from, from_currency, to_currency) * FROM (
            SELECT CAST({c["valid_from"]} AS DATE) AS valid_from,
                upper(trim({c["from_currency"]})) AS from_currency,
                upper(trim({c["to_currency"]})) AS to_currency,
                CAST({c["rate"]} AS DECIMAL(38, 10)) AS rate, _row FROM {STAGE}
        ) ORDER BY valid_from, from_currency, to_currency, _row DESC"""
    )
    changed = db.one(
        "SELECT count(*) FROM _valuegap_rates n LEFT JOIN currency_rates o USING "
        "(valid_from, from_currency, to_currency) WHERE o.rate IS DISTINCT FROM n.rate"
    )
    db.execute(
        "INSERT OR REPLACE INTO currency_rates SELECT valid_from, from_currency, to_currency, "
        "rate FROM _valuegap_rates"
    )
    db.execute("DROP TABLE _valuegap_rates")
    return int(changed[0]) if changed else 0


def _amount_checks(
    name: str, *, bounded: bool, credit: str | None = None
) -> list[tuple[str, str, str]]:
    """A money column's checks: a decimal number and, ``bounded``, within the bound of a cost
    line, and negative exactly where ``credit`` (SQL: the row is a credit) holds; without
    ``credit`` (fte, rate_per_month), never negative."""
    checks = [(name, f"{{v}} IS NOT NULL AND {_DECIMAL}", "is not a decimal number")]
    if not bounded:
        return checks
    amount = as_amount("{v}")
    too_big = f"{{v}} IS NOT NULL AND NOT ({_DECIMAL}) AND {amount} IS NULL"
    checks.append((name, too_big, too_large("an entry", MAX_AMOUNT)))
    if credit is None:
        checks.append((name, negative("{v}", amount), "is negative: people cost is never a credit"))
        return checks
    negative_cost = f"{negative('{v}', amount)} AND {credit} IS NOT TRUE"
    positive_credit = f"{credit} AND coalesce({amount}, 0) >= 0"
    checks.append((name, negative_cost, _NEGATIVE_COST))
    checks.append((name, positive_credit, _POSITIVE_CREDIT))
    return checks


_NEGATIVE_COST = (
    "is negative: a negative amount is a credit, and says so in the column kind (kind: credit)"
)
_POSITIVE_CREDIT = (
    "is not negative, but the row is a credit (kind: credit): give a credit as a negative "
    "amount, e.g. -500"
)


def _count(db: Database) -> int:
    row = db.one("SELECT count(DISTINCT entry_key) FROM manual_costs")
    return int(row[0]) if row else 0


def _refuse_bad_rows(db: Database, staged: Staged, checks: list[tuple[str, str, str]]) -> None:
    """Raise ``IngestError`` naming the first bad row of each (column, condition, message)."""
    refuse_bad_rows(db, STAGE, staged.file, [
        Check(staged.column(name) or name, condition, message, name)
        for name, condition, message in checks
    ])  # fmt: skip

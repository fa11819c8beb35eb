"""Loading adoption records (each person pseudonymised before anything is written) and process
volume; retention, which reduces old pseudonymous records to weekly aggregates and deletes
them; and what the org chart's and the surveys' loading (``org_units.py``, ``surveys.py``)
share with them.

Only the columns a kind of file is read for are staged (``only``): any other column, such as
a survey's respondent or a person's name beside their id, is dropped as the file is read. A
file is checked whole before anything is written, and every bad row is named by its row,
column and value, except a person's identifier, which no message ever shows. Loading the same
file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from valuegap.errors import IngestError
from valuegap.model.pseudonyms import PersonData
from valuegap.store.database import Database
from valuegap.store.staging import (
    STAGE,
    YEARS,
    Check,
    Project,
    Staged,
    as_date,
    quote,
    refuse_bad_rows,
)

RECORDS = ("access", "awareness", "training", "activity")
PROCESS = "process"  # process volume of a unit: no person
ADOPTION_COLUMNS = ("person", "unit", "subject", "record", "day", "uses", "process_volume")
_TYPED = "_valuegap_adoption"
_PEOPLE = "_valuegap_people"
_COUNT = "CASE WHEN regexp_full_match(trim({v}), '[0-9]{1,9}') THEN CAST(trim({v}) AS BIGINT) END"
_NOT_COUNT = "is not a count: a whole number from 0 to 999,999,999"
# a week already reduced to aggregates is closed: records that fall in it are not stored again
_REDUCED = """EXISTS (SELECT 1 FROM adoption_weekly w WHERE w.unit = n.unit
    AND w.subject = n.subject AND w.record = n.record AND w.week = CAST(date_trunc('week', n.day)
    AS DATE))"""


def only(file: str, columns: Sequence[str], required: Sequence[str]) -> Project:
    """Stage just ``columns`` of a file (matched without regard to letter case); a file
    without one of ``required`` is refused."""

    def project(header: list[str], rows: str, numbered: bool) -> str:
        spelled = {name.strip().lower(): name for name in header}
        missing = [c for c in required if c not in spelled]
        if missing:
            message = f"is missing; the header is {','.join(columns)}"
            raise IngestError(file, [IngestError.at(file, None, c, None, message) for c in missing])
        picked = [
            f"{quote(spelled[c])} AS {quote(c)}" if c in spelled else f"NULL::VARCHAR AS {quote(c)}"
            for c in columns
        ]
        return f"SELECT {'_row, ' if numbered else ''}{', '.join(picked)} FROM ({rows})"

    return project


def required_check(column: str, label: str | None = None) -> Check:
    return Check(column, "nullif(trim({v}), '') IS NULL", "is required; the value is empty", label)


def unit_check(column: str) -> Check:
    return Check(
        column,
        "nullif(trim({v}), '') IS NOT NULL AND trim({v}) NOT IN (SELECT unit FROM org_units)",
        "is not a unit of the org chart: ingest an org file that has it first",
    )


def date_check(column: str) -> Check:
    return Check(
        column,
        f"{{v}} IS NOT NULL AND {as_date('{v}')} IS NULL",
        f"is not a date {YEARS} (YYYY-MM-DD)",
    )


def load_adoption(
    db: Database, staged: Staged, person: PersonData, ingest_id: int
) -> tuple[int, bool]:
    """Check the staged adoption file, pseudonymise its people, and store its records (uses
    summed per person, unit, subject, record and day) and its process volume: (rows new or
    changed, whether a person was met)."""
    file = staged.file
    record = "lower(trim(record))"
    db.execute(
        f"""CREATE OR REPLACE TEMP VIEW {_TYPED} AS SELECT _row,
            nullif(trim(person), '') AS person,
            -- a person's identifier is never shown, not even in an error
            CASE WHEN nullif(trim(person), '') IS NOT NULL THEN '(withheld)' END AS person_shown,
            unit, subject, record, day, uses, process_volume,
            trim(unit) AS t_unit, trim(subject) AS t_subject, {record} AS t_record,
            {as_date("day")} AS t_day, {_COUNT.replace("{v}", "uses")} AS t_uses,
            {_COUNT.replace("{v}", "process_volume")} AS t_volume
        FROM {STAGE}"""
    )
    kinds = ", ".join(f"'{k}'" for k in (*RECORDS, PROCESS))
    counted = "t_record IN ('activity', 'process')"
    checks = [
        Check(
            "record",
            f"{{v}} IS NULL OR {record} NOT IN ({kinds})",
            f"must be one of {', '.join((*RECORDS, PROCESS))}",
        ),
        required_check("unit"),
        unit_check("unit"),
        required_check("subject"),
        required_check("day"),
        date_check("day"),
        Check(
            "person_shown",
            f"t_record IN ({kinds}) AND t_record <> 'process' AND person IS NULL",
            "is required; the value is empty",
            "person",
        ),
        Check(
            "person_shown",
            "t_record = 'process' AND person IS NOT NULL",
            "must be empty: a process record counts volume, not people",
            "person",
        ),
        Check(
            "uses",
            f"{counted} AND nullif(trim({{v}}), '') IS NULL",
            "is required for activity and process records",
        ),
        Check("uses", "nullif(trim({v}), '') IS NOT NULL AND t_uses IS NULL", _NOT_COUNT),
        Check(
            "uses",
            "t_record IN ('access', 'awareness', 'training') AND nullif(trim({v}), '') IS NOT NULL",
            "is only for activity and process records",
        ),
        Check(
            "process_volume",
            "t_record = 'process' AND nullif(trim({v}), '') IS NULL",
            "is required for process records (the whole volume of the process)",
        ),
        Check(
            "process_volume", "nullif(trim({v}), '') IS NOT NULL AND t_volume IS NULL", _NOT_COUNT
        ),
        Check(
            "process_volume",
            "t_record <> 'process' AND nullif(trim({v}), '') IS NOT NULL",
            "is only for process records",
        ),
        Check(
            "process_volume",
            "t_volume < t_uses",
            "is less than uses: the volume handled with AI is part of the whole",
        ),
    ]
    refuse_bad_rows(db, _TYPED, file, checks)
    identities = [
        str(r["person"])
        for r in db.all(f"SELECT DISTINCT person FROM {_TYPED} WHERE t_record <> 'process'")
    ]
    _pseudonymise(db, identities, person.pseudonymise)
    changed = _store_records(db, ingest_id) + _store_process(db, ingest_id)
    db.execute(f"DROP VIEW {_TYPED}")
    return changed, bool(identities)


def _pseudonymise(db: Database, identities: list[str], pseudonymise: Callable[[str], str]) -> None:
    """The temporary table of each identity's pseudonym (in memory, never the ledger file)."""
    import pyarrow as pa

    db.execute(f'CREATE OR REPLACE TEMP TABLE {_PEOPLE} ("identity" VARCHAR, pseudonym VARCHAR)')
    pseudonyms = [pseudonymise(identity) for identity in identities]
    db.insert_arrow(_PEOPLE, pa.table({"identity": identities, "pseudonym": pseudonyms}))


def _store_records(db: Database, ingest_id: int) -> int:
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _valuegap_new AS
        SELECT p.pseudonym, t_unit AS unit, t_subject AS subject, t_record AS record, t_day AS day,
            CASE WHEN t_record = 'activity' THEN sum(t_uses) END AS uses, {ingest_id} AS ingest_id
        FROM {_TYPED} JOIN {_PEOPLE} p ON p."identity" = person
        WHERE t_record <> 'process' GROUP BY 1, 2, 3, 4, 5"""
    )
    db.execute(f"DROP TABLE {_PEOPLE}")  # the identities go as soon as they are not needed
    changed = db.one(
        f"""INSERT OR REPLACE INTO adoption_records SELECT * FROM _valuegap_new n
        WHERE NOT {_REDUCED} AND NOT EXISTS (SELECT 1 FROM adoption_records s
            WHERE s.pseudonym = n.pseudonym AND s.unit = n.unit AND s.subject = n.subject
            AND s.record = n.record AND s.day = n.day AND s.uses IS NOT DISTINCT FROM n.uses)"""
    )
    db.execute("DROP TABLE _valuegap_new")
    return int(changed[0]) if changed else 0


def _store_process(db: Database, ingest_id: int) -> int:
    changed = db.one(
        f"""INSERT OR REPLACE INTO process_volume
        SELECT * FROM (SELECT t_unit AS unit, t_subject AS subject, t_day AS day,
            sum(t_uses) AS ai_handled, sum(t_volume) AS total, {ingest_id} AS ingest_id
            FROM {_TYPED} WHERE t_record = 'process' GROUP BY ALL) n
        WHERE NOT EXISTS (SELECT 1 FROM process_volume s WHERE s.unit = n.unit
            AND s.subject = n.subject AND s.day = n.day AND s.ai_handled = n.ai_handled
            AND s.total = n.total)"""
    )
    return int(changed[0]) if changed else 0


def insert_rows(
    db: Database, table: str, names: Sequence[str], rows: list[tuple[Any, ...]], ingest_id: int
) -> None:
    """Append ``rows`` (the values of the columns ``names``) to ``table``, from ingest
    ``ingest_id``."""
    import pyarrow as pa

    if rows:
        columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        db.insert_arrow(table, pa.table({**columns, "ingest_id": [ingest_id] * len(rows)}))


def reduce_before(db: Database, first_kept: date) -> tuple[int, int]:
    """Reduce the adoption records of the days before ``first_kept`` (a Monday, so that weeks
    are reduced whole) to aggregates per unit, subject, record and ISO week (the people, the
    uses), then delete them: (records deleted, weekly aggregates made)."""
    made = db.one(
        """INSERT INTO adoption_weekly
        SELECT unit, subject, record, CAST(date_trunc('week', day) AS DATE) AS week,
            count(DISTINCT pseudonym) AS people, coalesce(sum(uses), 0) AS uses
        FROM adoption_records WHERE day < ? GROUP BY ALL""",
        [first_kept],
    )
    deleted = db.one("DELETE FROM adoption_records WHERE day < ?", [first_kept])
    return (int(deleted[0]) if deleted else 0), (int(made[0]) if made else 0)

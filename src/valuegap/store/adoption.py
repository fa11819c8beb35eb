"""Loading adoption data: the org-unit hierarchy, adoption records (each person pseudonymised
before anything is written), process volume, and survey answers (aggregated on the way in);
and retention, which reduces old pseudonymous records to weekly aggregates and deletes them.

Only the columns a kind of file is read for are staged (``only``): any other column, such as
a survey's respondent or a person's name beside their id, is never read. A file is checked
whole before anything is written, and every bad row is named by its row, column and value,
except a person's identifier, which no message ever shows. Loading the same file twice
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.errors import IngestError, Problem
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
SURVEYS = ("executive_confidence", "manager_readiness")
ORG_COLUMNS = ("unit", "parent")
ADOPTION_COLUMNS = ("person", "unit", "subject", "record", "day", "uses", "process_volume")
SURVEY_COLUMNS = ("unit", "survey", "period", "answer")
_TYPED = "_valuegap_adoption"
_PEOPLE = "_valuegap_people"
_COUNT = "CASE WHEN regexp_full_match(trim({v}), '[0-9]{1,18}') THEN CAST(trim({v}) AS BIGINT) END"
_NOT_COUNT = "is not a count: a whole number, zero or more"
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


def _required(column: str, label: str | None = None) -> Check:
    return Check(column, "nullif(trim({v}), '') IS NULL", "is required; the value is empty", label)


def _a_unit(column: str) -> Check:
    return Check(
        column,
        "nullif(trim({v}), '') IS NOT NULL AND trim({v}) NOT IN (SELECT unit FROM org_units)",
        "is not a unit of the org chart: ingest an org file that has it first",
    )


def _a_date(column: str) -> Check:
    return Check(
        column,
        f"{{v}} IS NOT NULL AND {as_date('{v}')} IS NULL",
        f"is not a date {YEARS} (YYYY-MM-DD)",
    )


@dataclass(frozen=True)
class OrgRow:
    row: int
    unit: str
    parent: str | None


def read_org(db: Database, file: str) -> list[OrgRow]:
    """The staged org file's rows, checked: each unit once, a parent that is a unit of the
    file and no cycle (a later org file replaces the hierarchy whole)."""
    refuse_bad_rows(db, STAGE, file, [_required("unit")])
    rows = [
        OrgRow(int(r["_row"]), r["unit"].strip(), (r["parent"] or "").strip() or None)
        for r in db.all(f"SELECT _row, unit, parent FROM {STAGE} ORDER BY _row")
    ]
    problems: list[Problem] = []
    parents: dict[str, str | None] = {}
    for r in rows:
        if r.unit in parents:
            problems.append(
                IngestError.at(
                    file,
                    r.row,
                    "unit",
                    r.unit,
                    "is given twice: give each unit once, with its parent",
                )
            )
        parents.setdefault(r.unit, r.parent)
    for r in rows:
        if r.parent is not None and r.parent not in parents:
            message = "is not a unit of this file: the org file is the whole org chart"
            problems.append(IngestError.at(file, r.row, "parent", r.parent, message))
    if not problems:
        problems = _cycles(file, rows, parents)
    if problems:
        raise IngestError(file, sorted(problems, key=lambda p: p.row or 0))
    return rows


def _cycles(file: str, rows: list[OrgRow], parents: dict[str, str | None]) -> list[Problem]:
    found: list[Problem] = []
    named: set[str] = set()
    for r in rows:
        path, unit = [r.unit], r.parent
        while unit is not None and unit not in path:
            path.append(unit)
            unit = parents[unit]
        if unit == r.unit and r.unit not in named:
            named.update(path)
            chain = " -> ".join([*path, r.unit])
            found.append(
                IngestError.at(
                    file,
                    r.row,
                    "parent",
                    r.parent,
                    f"makes a cycle ({chain}): a unit cannot be its own ancestor",
                )
            )
    return found


def units_holding_data(db: Database) -> set[str]:
    rows = db.all(
        """SELECT unit FROM adoption_records UNION SELECT unit FROM process_volume
        UNION SELECT unit FROM survey_aggregates UNION SELECT unit FROM adoption_weekly"""
    )
    return {str(r["unit"]) for r in rows}


def replace_org(db: Database, rows: list[OrgRow], ingest_id: int) -> tuple[int, bool]:
    """Make ``rows`` the hierarchy: (units new or with a new parent, whether anything changed)."""
    stored = {(r["unit"], r["parent"]) for r in db.all("SELECT unit, parent FROM org_units")}
    given = {(r.unit, r.parent) for r in rows}
    if given == stored:
        return 0, False
    db.execute("DELETE FROM org_units")
    _insert(db, "org_units", [(r.unit, r.parent, ingest_id) for r in rows], ORG_COLUMNS)
    return len(given - stored), True


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
        _required("unit"),
        _a_unit("unit"),
        _required("subject"),
        _required("day"),
        _a_date("day"),
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


@dataclass(frozen=True)
class SurveyAggregate:
    unit: str
    survey: str
    period: date
    respondents: int
    answers: int  # the sum of the answers, each 1-5


def read_survey(db: Database, file: str) -> list[SurveyAggregate]:
    """The staged survey file, checked, as respondents and the sum of answers per unit, survey
    and period."""
    answer = "CASE WHEN regexp_full_match(trim(answer), '[1-5]') THEN CAST(trim(answer) AS INT) END"
    surveys = ", ".join(f"'{s}'" for s in SURVEYS)
    checks = [
        _required("unit"),
        _a_unit("unit"),
        Check(
            "survey",
            f"{{v}} IS NULL OR lower(trim({{v}})) NOT IN ({surveys})",
            f"must be one of {', '.join(SURVEYS)}",
        ),
        _required("period"),
        _a_date("period"),
        Check("answer", f"{answer} IS NULL", "must be a whole number from 1 to 5"),
    ]
    refuse_bad_rows(db, STAGE, file, checks)
    rows = db.all(
        f"""SELECT trim(unit) AS unit, lower(trim(survey)) AS survey,
            {as_date("period")} AS period, count(*) AS respondents, sum({answer}) AS answers
        FROM {STAGE} GROUP BY ALL ORDER BY ALL"""
    )
    return [SurveyAggregate(**r) for r in rows]


def replace_surveys(
    db: Database,
    found: list[SurveyAggregate],
    score: Callable[[SurveyAggregate], Decimal],
    ingest_id: int,
) -> tuple[int, bool]:
    """Replace the stored aggregates of each survey and period in ``found`` with ``found``'s:
    (the answers of the aggregates new or changed, whether anything changed)."""
    periods = sorted({(a.survey, a.period) for a in found})
    stored = {
        (r["unit"], r["survey"], r["period"], r["respondents"], r["score"])
        for survey, period in periods
        for r in db.all(
            "SELECT * FROM survey_aggregates WHERE survey = ? AND period = ?", [survey, period]
        )
    }
    given = {(a.unit, a.survey, a.period, a.respondents, score(a)) for a in found}
    if given == stored:
        return 0, False
    for survey, period in periods:
        db.execute(
            "DELETE FROM survey_aggregates WHERE survey = ? AND period = ?", [survey, period]
        )
    names = ("unit", "survey", "period", "respondents", "score")
    _insert(db, "survey_aggregates", [(*row, ingest_id) for row in sorted(given)], names)
    new = {row[:3] for row in given - stored}
    return sum(a.respondents for a in found if (a.unit, a.survey, a.period) in new), True


def _insert(db: Database, table: str, rows: list[tuple[Any, ...]], names: Sequence[str]) -> None:
    """Append ``rows`` (``names``' values, then the ingest id) to ``table``."""
    import pyarrow as pa

    columns = [*names, "ingest_id"]
    db.insert_arrow(table, pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}))


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

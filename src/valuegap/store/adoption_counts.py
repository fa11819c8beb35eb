"""What the adoption reports are made of, read as counts per org unit: never a pseudonym, nor
a row per person. Every figure read here goes through the anonymity partition
(``adoption/anonymity.py``) before anyone sees it.

A person's unit is the unit of their latest record on or before the report date (of two
records that day, the unit first in alphabetical order), so that each person counts in one
unit. The person-level rungs of the adoption ladder, each holding only with all below it:
access (an access record), awareness, training, experimentation (a use), regular use (active,
a use, in at least ``regular_weeks`` of the ``window_weeks`` whole ISO weeks before the week
of the report date; that week is not over, so it is not counted). Over all subjects, a
person's rung is their highest rung in any one subject.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from valuegap.errors import Problem, ValidationError
from valuegap.records import record
from valuegap.store.database import Database
from valuegap.store.literals import literal

RUNGS = ("access", "awareness", "training", "experimentation", "regular_use")
WINDOW_WEEKS = 4
REGULAR_WEEKS = 3


@record
class OrgUnit:
    unit: str
    parent: str | None


@record
class UnitPeople:
    """The people whose unit is exactly ``unit``."""

    unit: str
    people: int


@record
class RungCounts:
    """In ``unit``, the people with records (of ``subject``, or of any subject when None), and
    how many of them stand on each person-level rung as their highest. ``people`` less the
    five counts are those without an access record (on no rung)."""

    unit: str
    subject: str | None
    people: int
    access: int
    awareness: int
    training: int
    experimentation: int
    regular_use: int


@record
class ProcessVolume:
    """A unit's process volume (of ``subject``, or of all) over the window: handled with AI,
    and the whole."""

    unit: str
    subject: str | None
    ai_handled: int
    total: int


@record
class SurveyMean:
    """A unit's latest survey (on or before the report date): its respondents and the mean
    answer scaled to 0-1, ``(mean - 1) / 4``."""

    unit: str
    survey: str
    period: date
    respondents: int
    score: Decimal


def org_units(db: Database) -> list[OrgUnit]:
    """The org chart, read once between writes (a report asks for it more than once)."""

    def read() -> tuple[OrgUnit, ...]:
        rows = db.all("SELECT unit, parent FROM org_units ORDER BY unit")
        return tuple(OrgUnit(str(r["unit"]), r["parent"]) for r in rows)

    return list(db.cached("org_units", read, frozenset({"org_units"})))


def subjects(db: Database) -> list[str]:
    """The tools and initiatives that adoption records name."""
    rows = db.all("SELECT DISTINCT subject FROM adoption_records ORDER BY subject")
    return [str(r["subject"]) for r in rows]


def latest_day(db: Database) -> date | None:
    """The latest day of any adoption record or process volume."""
    row = db.one(
        "SELECT max(day) FROM (SELECT day FROM adoption_records UNION ALL "
        "SELECT day FROM process_volume)"
    )
    return None if row is None else row[0]


def window(on: date, window_weeks: int = WINDOW_WEEKS) -> tuple[date, date]:
    """The first day of the window before ``on`` and the day after it: ``window_weeks`` whole
    ISO weeks, Monday to Sunday, ending before the week of ``on``."""
    if window_weeks < 1:
        problem = Problem("window_weeks", "must be at least 1", window_weeks)
        raise ValidationError("The activity window is empty.", [problem])
    monday = on - timedelta(days=on.weekday())
    return monday - timedelta(weeks=window_weeks), monday


# The reads write their values into the SQL (store/literals.py).


def _unit_of(on: date) -> str:
    """Each person's unit on ``on``: the unit of their latest record."""
    return f"""SELECT pseudonym, first(unit ORDER BY day DESC, unit) AS unit
    FROM adoption_records WHERE day <= {literal(on)} GROUP BY pseudonym"""


def _of_subject(subject: str | None) -> str:
    """A condition: of ``subject``, or of any when None."""
    return "true" if subject is None else f"subject = {literal(subject)}"


_PER_RUNG = ", ".join(f"count(*) FILTER (WHERE rung = {n}) AS {r}" for n, r in enumerate(RUNGS, 1))


def people_per_unit(db: Database, on: date) -> list[UnitPeople]:
    """How many people are in each unit on ``on`` (units without people are left out)."""
    rows = db.all(
        f"SELECT unit, count(*) AS people FROM ({_unit_of(on)}) GROUP BY unit ORDER BY unit"
    )
    return [UnitPeople(str(r["unit"]), int(r["people"])) for r in rows]


def rung_counts(
    db: Database,
    on: date,
    subject: str | None = None,
    *,
    window_weeks: int = WINDOW_WEEKS,
    regular_weeks: int = REGULAR_WEEKS,
) -> list[RungCounts]:
    """Per unit, the people on each person-level rung on ``on`` (of ``subject``, else over all
    subjects: each person's highest rung in any one subject)."""
    if not 1 <= regular_weeks <= window_weeks:
        message = f"must be from 1 to window_weeks ({window_weeks})"
        problem = Problem("regular_weeks", message, regular_weeks)
        raise ValidationError("Regular use cannot be told.", [problem])
    first, end = window(on, window_weeks)
    rows = db.all(
        # Within a SELECT: a statement that starts with WITH is taken for a write, which a
        # read-only ledger refuses.
        f"""SELECT * FROM (WITH flags AS (
            SELECT pseudonym, subject,
                bool_or(record = 'access') AS access,
                bool_or(record = 'awareness') AS awareness,
                bool_or(record = 'training') AS training,
                bool_or(record = 'activity' AND uses > 0) AS used,
                count(DISTINCT CAST(date_trunc('week', day) AS DATE)) FILTER (
                    WHERE record = 'activity' AND uses > 0
                        AND day >= {literal(first)} AND day < {literal(end)}) AS weeks
            FROM adoption_records WHERE day <= {literal(on)} AND {_of_subject(subject)}
            GROUP BY ALL
        ), rungs AS (
            SELECT pseudonym, max(CASE WHEN NOT access THEN 0 WHEN NOT awareness THEN 1
                WHEN NOT training THEN 2 WHEN NOT used THEN 3
                WHEN weeks < {int(regular_weeks)} THEN 4 ELSE 5 END)
                AS rung
            FROM flags GROUP BY pseudonym
        )
        SELECT u.unit, count(*) AS people,
            {_PER_RUNG}
        FROM rungs JOIN ({_unit_of(on)}) u USING (pseudonym) GROUP BY u.unit) ORDER BY unit"""
    )
    return [
        RungCounts(str(r["unit"]), subject, *(int(r[c]) for c in ("people", *RUNGS))) for r in rows
    ]


def process_volumes(
    db: Database, on: date, subject: str | None = None, *, window_weeks: int = WINDOW_WEEKS
) -> list[ProcessVolume]:
    """Per unit, the process volume handled with AI and the whole, over the window before
    ``on`` (of ``subject``, else of all)."""
    first, end = window(on, window_weeks)
    rows = db.all(
        f"""SELECT unit, sum(ai_handled) AS ai_handled, sum(total) AS total FROM process_volume
        WHERE day >= {literal(first)} AND day < {literal(end)} AND {_of_subject(subject)}
        GROUP BY unit ORDER BY unit"""
    )
    return [
        ProcessVolume(str(r["unit"]), subject, int(r["ai_handled"]), int(r["total"])) for r in rows
    ]


def survey_means(db: Database, on: date) -> list[SurveyMean]:
    """Per unit and survey, the latest period on or before ``on``."""
    rows = db.all(
        f"""SELECT unit, survey, period, respondents, score FROM survey_aggregates
        WHERE period <= {literal(on)}
        QUALIFY period = max(period) OVER (PARTITION BY unit, survey)
        ORDER BY unit, survey"""
    )
    return [
        SurveyMean(r["unit"], r["survey"], r["period"], int(r["respondents"]), r["score"])
        for r in rows
    ]

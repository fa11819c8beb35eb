"""Loading survey answers, aggregated on the way in: per unit, survey and period only the
number of answers and their sum are read, and the mean stored; who answered is never read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from valuegap.records import record
from valuegap.store.adoption import date_check, insert_rows, required_check, unit_check
from valuegap.store.database import Database
from valuegap.store.staging import STAGE, Check, as_date, refuse_bad_rows

SURVEYS = ("executive_confidence", "manager_readiness")
SURVEY_COLUMNS = ("unit", "survey", "period", "answer")
SCORE = Decimal("0.0000000001")  # a score's precision, as stored


@record
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
        required_check("unit"),
        unit_check("unit"),
        Check(
            "survey",
            f"{{v}} IS NULL OR lower(trim({{v}})) NOT IN ({surveys})",
            f"must be one of {', '.join(SURVEYS)}",
        ),
        required_check("period"),
        date_check("period"),
        Check("answer", f"{answer} IS NULL", "must be a whole number from 1 to 5"),
    ]
    refuse_bad_rows(db, STAGE, file, checks)
    rows = db.all(
        f"""SELECT trim(unit) AS unit, lower(trim(survey)) AS survey,
            {as_date("period")} AS period, count(*) AS respondents, sum({answer}) AS answers
        FROM {STAGE} GROUP BY ALL ORDER BY ALL"""
    )
    return [SurveyAggregate(**r) for r in rows]


def survey_score(found: SurveyAggregate) -> Decimal:
    """The mean answer (1-5) scaled to 0-1: ``(mean - 1) / 4``, to ten decimal places."""
    mean = Decimal(found.answers) / Decimal(found.respondents)
    return ((mean - 1) / 4).quantize(SCORE)


def replace_surveys(db: Database, found: list[SurveyAggregate], ingest_id: int) -> tuple[int, bool]:
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
    given = {(a.unit, a.survey, a.period, a.respondents, survey_score(a)) for a in found}
    if given == stored:
        return 0, False
    for survey, period in periods:
        db.execute(
            "DELETE FROM survey_aggregates WHERE survey = ? AND period = ?", [survey, period]
        )
    names = ("unit", "survey", "period", "respondents", "score")
    insert_rows(db, "survey_aggregates", names, sorted(given), ingest_id)
    new = {row[:3] for row in given - stored}
    return sum(a.respondents for a in found if (a.unit, a.survey, a.period) in new), True

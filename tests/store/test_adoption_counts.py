"""The counts per unit the adoption reports are made of, on a hand-built organisation whose
every figure is worked out in tests/adoption/adoption_data.py's comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.adoption.adoption_data import ADOPTION_HEADER, HAND_BUILT, ORG, SURVEY, write_csv
from valuegap import Ledger
from valuegap.errors import ValidationError
from valuegap.store.adoption_counts import (
    OrgUnit,
    ProcessVolume,
    RungCounts,
    SurveyMean,
    UnitPeople,
    org_units,
    people_per_unit,
    process_volumes,
    rung_counts,
    subjects,
    survey_means,
    window,
)
from valuegap.store.database import Database

ON = date(2026, 12, 5)


@pytest.fixture
def db(ledger: Ledger, tmp_path: Path) -> Database:
    ledger.adoption.ingest_org(write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG))
    ledger.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT))
    header = ("unit", "survey", "period", "answer")
    ledger.adoption.ingest_survey(write_csv(tmp_path / "s.csv", header, SURVEY))
    return ledger.session.db


def test_the_window_is_the_whole_iso_weeks_before_the_report_week() -> None:
    # Saturday 2026-12-05 is in the week of Monday 11-30: four weeks back is Monday 11-02.
    assert window(ON) == (date(2026, 11, 2), date(2026, 11, 30))
    assert window(date(2026, 11, 30), 1) == (date(2026, 11, 23), date(2026, 11, 30))


def test_org_units(db: Database) -> None:
    assert org_units(db) == [
        OrgUnit("acme", None),
        OrgUnit("ops", "acme"),
        OrgUnit("sales", "acme"),
        OrgUnit("sales-emea", "sales"),
    ]


def test_subjects(db: Database) -> None:
    assert subjects(db) == ["chat", "copilot"]


def test_each_person_counts_once_in_the_unit_of_their_latest_record(db: Database) -> None:
    # sales: p1-p6, p11; ops: p7 (latest record in ops), p8, p9 (tie: ops before sales-emea);
    # sales-emea: p10 (its later record in ops is after the report date)
    assert people_per_unit(db, ON) == [
        UnitPeople("ops", 3),
        UnitPeople("sales", 7),
        UnitPeople("sales-emea", 1),
    ]
    # on 2026-10-15 only the records up to then count: p7's latest is the ops ladder of 10-01;
    # p9 and the activity-only p6 have none yet
    assert people_per_unit(db, date(2026, 10, 15)) == [
        UnitPeople("ops", 2),
        UnitPeople("sales", 6),
        UnitPeople("sales-emea", 1),
    ]


def test_rungs_over_all_subjects(db: Database) -> None:
    # (people, access, awareness, training, experimentation, regular use)
    # sales: p5 access, p4 awareness, p3 and p11 training, p2 experimentation, p1 regular, p6
    # none; ops: p9 access, p8 experimentation, p7 regular; sales-emea: p10 regular
    assert rung_counts(db, ON) == [
        RungCounts("ops", None, 3, 1, 0, 0, 1, 1),
        RungCounts("sales", None, 7, 1, 1, 2, 1, 1),
        RungCounts("sales-emea", None, 1, 0, 0, 0, 0, 1),
    ]


def test_rungs_of_one_subject(db: Database) -> None:
    # copilot: p11 has no copilot access (none); chat: p7's and p9's access, p11's training
    assert rung_counts(db, ON, "copilot") == [
        RungCounts("ops", "copilot", 3, 1, 0, 0, 1, 1),
        RungCounts("sales", "copilot", 7, 1, 1, 1, 1, 1),
        RungCounts("sales-emea", "copilot", 1, 0, 0, 0, 0, 1),
    ]
    assert rung_counts(db, ON, "chat") == [
        RungCounts("ops", "chat", 2, 2, 0, 0, 0, 0),
        RungCounts("sales", "chat", 1, 0, 0, 1, 0, 0),
    ]


def test_regular_use_follows_its_parameters(db: Database) -> None:
    # 2 of 4 weeks: p2 (W1, W2) becomes regular
    sales = rung_counts(db, ON, regular_weeks=2)[1]
    assert (sales.experimentation, sales.regular_use) == (0, 2)
    # 2 of the last 2 weeks (W3, W4): p1 (W3 only) is experimenting; p7 and p10 stay regular
    two = rung_counts(db, ON, window_weeks=2, regular_weeks=2)
    assert [(r.unit, r.experimentation, r.regular_use) for r in two] == [
        ("ops", 1, 1),
        ("sales", 2, 0),
        ("sales-emea", 0, 1),
    ]
    with pytest.raises(ValidationError, match="Regular use cannot be told"):
        rung_counts(db, ON, regular_weeks=5)


def test_process_volume_over_the_window(db: Database) -> None:
    # ops copilot: 40 + 10 of 100 + 50 (10-30 is before the window, 12-01 in this week)
    assert process_volumes(db, ON) == [
        ProcessVolume("ops", None, 50, 150),
        ProcessVolume("sales", None, 5, 20),
    ]
    assert process_volumes(db, ON, "copilot") == [ProcessVolume("ops", "copilot", 50, 150)]


def test_survey_means_of_the_latest_period(db: Database) -> None:
    # sales: (13/3 - 1) / 4 = 10/12 = 0.8333333333; ops: (2.5 - 1) / 4 = 0.375 (the period
    # of 2027 is after the report date)
    assert survey_means(db, ON) == [
        SurveyMean("ops", "manager_readiness", date(2026, 10, 1), 4, Decimal("0.375")),
        SurveyMean("sales", "executive_confidence", date(2026, 10, 1), 3, Decimal("0.8333333333")),
    ]
    # on 2026-08-01 the July period is sales' latest: 2, 2, 3 -> (7/3 - 1) / 4 = 1/3
    assert survey_means(db, date(2026, 8, 1)) == [
        SurveyMean("sales", "executive_confidence", date(2026, 7, 1), 3, Decimal("0.3333333333"))
    ]

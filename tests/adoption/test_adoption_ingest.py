"""Ingesting the org chart, adoption records and surveys: whole or nothing, every bad row named
(never a person's identifier), the same file twice changes nothing, people pseudonymised with
the ledger's key (a missing or other key stops the ingest), audited."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from pathlib import Path

import pytest

from tests.adoption.adoption_data import ADOPTION_HEADER, HAND_BUILT, ORG, SURVEY, write_csv
from tests.conftest import key_file_of
from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.errors import ConfigError, IngestError, PermissionDenied

SURVEY_HEADER = ("unit", "survey", "period", "answer")


@pytest.fixture
def org(ledger: Ledger, tmp_path: Path) -> Ledger:
    ledger.adoption.ingest_org(write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG))
    return ledger


def _audit(ledger: Ledger) -> list[str]:
    rows = ledger.session.db.all("SELECT action FROM audit_log ORDER BY seq")
    return [str(r["action"]) for r in rows]


def _problems(error: pytest.ExceptionInfo[IngestError]) -> list[tuple[int | None, str, object]]:
    return [(p.row, p.column or "", p.value) for p in error.value.problems]


# The org chart


def test_an_org_chart_is_stored_and_the_same_file_again_changes_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG)
    first = ledger.adoption.ingest_org(file)
    assert (first.rows_read, first.rows_added) == (4, 4)
    before = contents(ledger)
    again = ledger.adoption.ingest_org(file)
    assert (again.rows_read, again.rows_added) == (4, 0)
    assert contents(ledger) == before  # no ingest row, no audit entry
    assert _audit(ledger).count("ingest.org") == 1


def test_a_later_org_chart_replaces_the_stored_one_whole(org: Ledger, tmp_path: Path) -> None:
    # ops moves under sales, sales-emea goes, support is new: 2 units new or with a new parent
    chart = [("acme", ""), ("sales", "acme"), ("ops", "sales"), ("support", "acme")]
    result = org.adoption.ingest_org(write_csv(tmp_path / "org2.csv", ("unit", "parent"), chart))
    assert result.rows_added == 2
    rows = org.session.db.all("SELECT unit, parent FROM org_units ORDER BY unit")
    assert [(r["unit"], r["parent"]) for r in rows] == [
        ("acme", None),
        ("ops", "sales"),
        ("sales", "acme"),
        ("support", "acme"),
    ]


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        # a cycle: b -> c -> b, named at the first row in it
        (
            [("a", ""), ("b", "c"), ("c", "b")],
            [(2, "parent", "c")],
        ),
        # a unit its own parent
        ([("a", "a")], [(1, "parent", "a")]),
        # a parent not in the file, and a unit given twice
        ([("a", ""), ("b", "x"), ("a", "")], [(2, "parent", "x"), (3, "unit", "a")]),
        # an empty unit
        ([("a", ""), ("", "a")], [(2, "unit", None)]),
    ],
)
def test_a_bad_org_chart_is_refused_whole(
    org: Ledger, tmp_path: Path, chart: list[tuple[str, str]], expected: list[object]
) -> None:
    before = contents(org)
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_org(write_csv(tmp_path / "bad.csv", ("unit", "parent"), chart))
    assert _problems(error) == expected
    assert contents(org) == before


def test_the_cycle_is_spelled_out(org: Ledger, tmp_path: Path) -> None:
    chart = [("a", ""), ("b", "c"), ("c", "d"), ("d", "b")]
    with pytest.raises(IngestError, match=r"makes a cycle \(b -> c -> d -> b\)"):
        org.adoption.ingest_org(write_csv(tmp_path / "bad.csv", ("unit", "parent"), chart))


def test_a_unit_holding_adoption_data_must_stay_in_the_chart(org: Ledger, tmp_path: Path) -> None:
    org.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT))
    before = contents(org)
    chart = [("acme", ""), ("sales", "acme")]  # ops and sales-emea hold records
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_org(write_csv(tmp_path / "org2.csv", ("unit", "parent"), chart))
    assert _problems(error) == [(None, "unit", "ops"), (None, "unit", "sales-emea")]
    assert contents(org) == before


# Adoption records


def test_records_are_stored_per_person_unit_subject_record_and_day(
    org: Ledger, tmp_path: Path
) -> None:
    rows = [
        ("Ana@Corp", "sales", "copilot", "activity", "2026-11-03", 2, ""),
        (" ana@corp ", "sales", "copilot", "ACTIVITY", "2026-11-03", 3, ""),  # the same key
        ("ana@corp", "sales", "copilot", "access", "2026-11-01", "", ""),
        ("", "ops", "copilot", "process", "2026-11-03", 4, 10),
        ("", "ops", "copilot", "process", "2026-11-03", 1, 5),  # summed too
    ]
    result = org.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, rows))
    # 5 rows read; stored: ana's activity (2 + 3 uses), ana's access, ops' process volume
    assert (result.kind, result.rows_read, result.rows_added) == ("adoption", 5, 3)
    db = org.session.db
    key = key_file_of(org).read_text().strip().encode()
    ana = "p_" + hmac.new(key, b"ana@corp", hashlib.sha256).hexdigest()[:32]
    stored = db.all("SELECT pseudonym, record, uses FROM adoption_records ORDER BY record")
    assert [(r["pseudonym"], r["record"], r["uses"]) for r in stored] == [
        (ana, "access", None),
        (ana, "activity", 5),
    ]
    volume = db.all("SELECT unit, ai_handled, total FROM process_volume")
    assert [(r["unit"], r["ai_handled"], r["total"]) for r in volume] == [("ops", 5, 15)]
    assert _audit(org)[-1] == "ingest.adoption"
    assert org.governance.audit.verify_audit().ok


def test_the_same_file_twice_changes_nothing(org: Ledger, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT)
    assert org.adoption.ingest_adoption(file).rows_added == len(HAND_BUILT)
    before = contents(org)
    again = org.adoption.ingest_adoption(file)
    assert (again.rows_read, again.rows_added) == (len(HAND_BUILT), 0)
    assert contents(org) == before


def test_a_row_naming_a_stored_key_again_replaces_it(org: Ledger, tmp_path: Path) -> None:
    row = ["p1@corp", "sales", "copilot", "activity", "2026-11-03", 2, ""]
    org.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, [row]))
    row[5] = 7  # a corrected count
    result = org.adoption.ingest_adoption(write_csv(tmp_path / "b.csv", ADOPTION_HEADER, [row]))
    assert result.rows_added == 1
    assert org.session.db.one("SELECT sum(uses), count(*) FROM adoption_records") == (7, 1)


BAD_ROWS = [
    ("p1@corp", "sales", "copilot", "activity", "2026-11-03", 2, ""),  # good
    ("p2@corp", "nowhere", "copilot", "access", "2026-11-03", "", ""),  # 2: no such unit
    ("p3@corp", "sales", "", "access", "2026-11-03", "", ""),  # 3: no subject
    ("p4@corp", "sales", "copilot", "licence", "2026-11-03", "", ""),  # 4: no such record
    ("p5@corp", "sales", "copilot", "access", "2026-02-30", "", ""),  # 5: no such day
    ("p6@corp", "sales", "copilot", "activity", "2026-11-03", "1.5", ""),  # 6: not a count
    ("p7@corp", "sales", "copilot", "training", "2026-11-03", 3, ""),  # 7: uses on training
    ("", "sales", "copilot", "activity", "2026-11-03", 1, ""),  # 8: no person
    ("secret.person@corp", "ops", "copilot", "process", "2026-11-03", 5, 9),  # 9: a person
    ("", "ops", "copilot", "process", "2026-11-03", 5, 4),  # 10: more with AI than the whole
    ("p8@corp", "sales", "copilot", "activity", "2026-11-03", -1, ""),  # 11: negative
]


def test_bad_rows_are_named_and_nothing_is_stored(org: Ledger, tmp_path: Path) -> None:
    before = contents(org)
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_adoption(write_csv(tmp_path / "bad.csv", ADOPTION_HEADER, BAD_ROWS))
    assert _problems(error) == [
        (2, "unit", "nowhere"),
        (3, "subject", None),
        (4, "record", "licence"),
        (5, "day", "2026-02-30"),
        (6, "uses", "1.5"),
        (7, "uses", "3"),
        (8, "person", None),
        (9, "person", "(withheld)"),  # never the identifier
        (10, "process_volume", "4"),
    ]
    assert "bad.csv, row 2, column 'unit'" in str(error.value.problems[0])
    assert "secret" not in str(error.value)
    assert contents(org) == before
    # each check names its first bad row: the negative count of row 11 is named once row 6 is
    # fixed
    fixed = [r if n != 5 else (*r[:5], 1, "") for n, r in enumerate(BAD_ROWS)]
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_adoption(write_csv(tmp_path / "bad.csv", ADOPTION_HEADER, fixed))
    assert (11, "uses", "-1") in _problems(error)
    assert contents(org) == before


def test_a_file_without_a_required_column_is_refused(org: Ledger, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "a.csv", ("person", "unit", "record", "day"), [])
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_adoption(file)
    assert _problems(error) == [(None, "subject", None)]


def test_without_the_org_chart_every_unit_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    rows = [("p1@corp", "sales", "copilot", "access", "2026-11-03", "", "")]
    with pytest.raises(IngestError, match="is not a unit of the org chart"):
        ledger.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, rows))


def test_a_missing_key_stops_the_ingest(org: Ledger, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT)
    org.adoption.ingest_adoption(file)
    key_file_of(org).unlink()
    before = contents(org)
    more = [("p99@corp", "sales", "copilot", "access", "2026-11-30", "", "")]
    with pytest.raises(ConfigError, match="pseudonymisation key is missing"):
        org.adoption.ingest_adoption(write_csv(tmp_path / "b.csv", ADOPTION_HEADER, more))
    assert contents(org) == before


def test_another_key_stops_the_ingest(
    org: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT))
    monkeypatch.setenv("VALUEGAP_PSEUDONYM_KEY", "another key")
    before = contents(org)
    more = [("p99@corp", "sales", "copilot", "access", "2026-11-30", "", "")]
    with pytest.raises(ConfigError, match="is not this ledger's"):
        org.adoption.ingest_adoption(write_csv(tmp_path / "b.csv", ADOPTION_HEADER, more))
    assert contents(org) == before


def test_process_volume_alone_needs_no_key_nor_a_person_column(org: Ledger, tmp_path: Path) -> None:
    rows = [("ops", "copilot", "process", "2026-11-03", 4, 10)]
    file = write_csv(tmp_path / "a.csv", ADOPTION_HEADER[1:], rows)
    assert org.adoption.ingest_adoption(file).rows_added == 1
    assert not key_file_of(org).exists()
    # a person's record in such a file misses its person
    rows.append(("ops", "copilot", "access", "2026-11-03", "", ""))
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_adoption(write_csv(tmp_path / "b.csv", ADOPTION_HEADER[1:], rows))
    assert _problems(error) == [(2, "person", None)]


def test_a_rotated_key_keeps_people_linked(org: Ledger, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT)
    org.adoption.ingest_adoption(file)
    rotation = org.governance.keys.rotate_key()
    assert rotation.rekeyed == 11  # p1 to p11
    assert org.adoption.ingest_adoption(file).rows_added == 0  # the same people, re-keyed


def test_a_viewer_may_not_ingest(org: Ledger, tmp_path: Path) -> None:
    org.governance.users.add_user("vic", "viewer")
    file = write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG)
    with pytest.raises(PermissionDenied):
        org.acting_as("vic").adoption.ingest_org(file)
    with pytest.raises(PermissionDenied):
        org.acting_as("vic").adoption.retain()


# Surveys


def test_surveys_are_stored_as_means_per_unit_and_period(org: Ledger, tmp_path: Path) -> None:
    rows = [(*row, f"resp{n}@corp") for n, row in enumerate(SURVEY)]
    file = write_csv(tmp_path / "s.csv", (*SURVEY_HEADER, "respondent"), rows)
    result = org.adoption.ingest_survey(file)
    # 3 + 3 + 4 + 5 answers in 4 unit-survey-periods, all new
    assert (result.rows_read, result.rows_added) == (15, 15)
    stored = org.session.db.all(
        "SELECT unit, survey, period, respondents, score FROM survey_aggregates ORDER BY ALL"
    )
    assert [(str(r["period"]), r["respondents"], r["score"]) for r in stored] == [
        ("2026-10-01", 4, Decimal("0.375")),  # ops: (2.5 - 1) / 4
        ("2027-01-04", 5, Decimal("1")),  # ops: all 5
        ("2026-07-01", 3, Decimal("0.3333333333")),  # sales: (7/3 - 1) / 4
        ("2026-10-01", 3, Decimal("0.8333333333")),  # sales: (13/3 - 1) / 4
    ]
    before = contents(org)
    assert org.adoption.ingest_survey(file).rows_added == 0
    assert contents(org) == before


def test_a_period_given_again_replaces_it(org: Ledger, tmp_path: Path) -> None:
    org.adoption.ingest_survey(write_csv(tmp_path / "s.csv", SURVEY_HEADER, SURVEY))
    # the October executive survey again, from sales-emea only: sales' October mean goes
    again = [("sales-emea", "executive_confidence", "2026-10-01", 3)] * 5
    result = org.adoption.ingest_survey(write_csv(tmp_path / "s2.csv", SURVEY_HEADER, again))
    assert result.rows_added == 5
    rows = org.session.db.all(
        "SELECT unit, score FROM survey_aggregates "
        "WHERE survey = 'executive_confidence' AND period = '2026-10-01'"
    )
    assert [(r["unit"], r["score"]) for r in rows] == [("sales-emea", Decimal("0.5"))]


@pytest.mark.parametrize("answer", ["0", "6", "4.5", "x", ""])
def test_an_answer_off_the_scale_is_refused(org: Ledger, tmp_path: Path, answer: str) -> None:
    rows = [
        ("sales", "executive_confidence", "2026-10-01", 4),
        ("sales", "manager_readiness", "2026-10-01", answer),
    ]
    before = contents(org)
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_survey(write_csv(tmp_path / "s.csv", SURVEY_HEADER, rows))
    assert _problems(error) == [(2, "answer", answer or None)]
    assert "must be a whole number from 1 to 5" in str(error.value)
    assert contents(org) == before


def test_an_unknown_survey_is_refused(org: Ledger, tmp_path: Path) -> None:
    rows = [("sales", "happiness", "2026-10-01", 4)]
    with pytest.raises(IngestError) as error:
        org.adoption.ingest_survey(write_csv(tmp_path / "s.csv", SURVEY_HEADER, rows))
    assert _problems(error) == [(1, "survey", "happiness")]

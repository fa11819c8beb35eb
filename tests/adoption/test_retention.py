"""Retention: pseudonymous adoption records older than ``adoption_retention_months`` are
reduced to weekly aggregates per unit, subject, record and ISO week (people, uses) and
deleted; the weekly totals stay what they were."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.adoption.adoption_data import ADOPTION_HEADER, ORG, organisation, write_csv
from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.adoption.api import Retention, retention_start
from valuegap.errors import IngestError
from valuegap.settings import Settings

NOW = datetime(2026, 12, 5, 9, 0)  # a Saturday


def test_the_first_day_kept_starts_a_week() -> None:
    # 13 months before Saturday 2026-12-05 is Wednesday 2025-11-05, in the week of Monday 11-03
    assert retention_start(date(2026, 12, 5), 13) == date(2025, 11, 3)
    # 6 months: Friday 2026-06-05, in the week of Monday 06-01
    assert retention_start(date(2026, 12, 5), 6) == date(2026, 6, 1)
    # a Monday is its own week's start
    assert retention_start(date(2026, 12, 7), 1) == date(2026, 11, 2)


def _open(path: Path, months: int = 13, key: Path | None = None) -> Ledger:
    """``path`` opened at ``NOW``, with the key file ``key`` (else the default one)."""
    key_file = None if key is None else str(key)
    settings = Settings(db=path, adoption_retention_months=months, pseudonym_key_file=key_file)
    return Ledger.open(path, actor="alice", settings=settings, clock=lambda: NOW)


def _weekly(ledger: Ledger) -> set[tuple[object, ...]]:
    rows = ledger.session.db.all("SELECT * FROM adoption_weekly")
    return {
        (r["unit"], r["subject"], r["record"], str(r["week"]), r["people"], r["uses"]) for r in rows
    }


SMALL = [
    # weeks before Monday 2025-11-03 (the first day kept 13 months before 2026-12-05)
    ("a@corp", "sales", "copilot", "activity", "2025-10-27", 2, ""),  # Monday
    ("A@corp", "sales", "copilot", "activity", "2025-10-29", 3, ""),  # a again
    ("b@corp", "sales", "copilot", "activity", "2025-11-02", 4, ""),  # Sunday: the same week
    ("b@corp", "sales", "copilot", "access", "2025-10-28", "", ""),
    ("a@corp", "ops", "copilot", "activity", "2025-10-20", 5, ""),
    # kept
    ("c@corp", "sales", "copilot", "activity", "2025-11-03", 1, ""),
]


def test_an_ingest_reduces_the_old_records_to_weekly_aggregates(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    Ledger.init(path, actor="alice", clock=lambda: NOW).close()
    with _open(path) as ledger:
        ledger.adoption.ingest_org(write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG))
        file = write_csv(tmp_path / "a.csv", ADOPTION_HEADER, SMALL)
        assert ledger.adoption.ingest_adoption(file).rows_added == 6
        # week of 10-27 in sales: a and b active (2 people), 2 + 3 + 4 = 9 uses; b's access;
        # week of 10-20 in ops: a, 5 uses. Five records reduced into three aggregates.
        assert _weekly(ledger) == {
            ("sales", "copilot", "activity", "2025-10-27", 2, 9),
            ("sales", "copilot", "access", "2025-10-27", 1, 0),
            ("ops", "copilot", "activity", "2025-10-20", 1, 5),
        }
        kept = ledger.session.db.all("SELECT day, uses FROM adoption_records")
        assert [(str(r["day"]), r["uses"]) for r in kept] == [("2025-11-03", 1)]
        entries = ledger.session.db.all("SELECT action, after FROM audit_log ORDER BY seq")
        assert entries[-1]["action"] == "adoption.retain"
        assert '"records_deleted":5' in entries[-1]["after"].replace(" ", "")
        # nothing more to reduce; the same file again changes nothing (a week already reduced
        # takes no records again, so no one is counted twice in it)
        assert ledger.adoption.retain() == Retention(date(2025, 11, 3), 0, 0)
        before = contents(ledger)
        assert ledger.adoption.ingest_adoption(file).rows_added == 0
        late = [("d@corp", "sales", "copilot", "activity", "2025-10-28", 7, "")]
        assert (
            ledger.adoption.ingest_adoption(
                write_csv(tmp_path / "b.csv", ADOPTION_HEADER, late)
            ).rows_added
            == 0
        )
        assert contents(ledger) == before


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A ledger holding a year of daily activity of 400 people, and its key file (its own,
    apart from the configuration folder that every test's starts as a copy of)."""
    folder = tmp_path_factory.mktemp("year")
    made = organisation(folder)
    path, key = folder / "l.duckdb", folder / "pseudonym.key"
    Ledger.init(path, actor="alice", clock=lambda: NOW).close()
    with _open(path, key=key) as ledger:
        ledger.adoption.ingest_org(made.org)
        ledger.adoption.ingest_adoption(made.adoption)
    return path, key


def _copy(year: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "l.duckdb"
    copy.write_bytes(year[0].read_bytes())
    return copy


def test_a_year_of_activity_reduced_after_six_months(
    year: tuple[Path, Path], tmp_path: Path
) -> None:
    made = organisation(tmp_path)  # the same organisation, computed again here
    first_kept = date(2026, 6, 1)
    # What the weekly aggregates must be, from the rows as written: distinct people (an
    # identity compared without case and surrounding space) and summed uses per unit, subject,
    # record and week; and the records (person, unit, subject, record, day) that go.
    people: dict[tuple[object, ...], set[str]] = defaultdict(set)
    uses: dict[tuple[object, ...], int] = defaultdict(int)
    gone = set()
    for person, unit, subject, record, day, used, _ in made.rows:
        day = date.fromisoformat(str(day))
        if record == "process" or day >= first_kept:
            continue
        week = str(day - timedelta(days=day.weekday()))
        people[(unit, subject, record, week)].add(str(person).strip().lower())
        uses[(unit, subject, record, week)] += int(used or 0)
        gone.add((str(person).strip().lower(), unit, record, day))
    expected = {(*k, len(v), uses[k]) for k, v in people.items()}
    with _open(_copy(year, tmp_path), months=6, key=year[1]) as ledger:
        db = ledger.session.db
        total = db.one("SELECT count(*) FROM adoption_records")
        done = ledger.adoption.retain()
        assert done == Retention(first_kept, len(gone), len(expected))
        assert _weekly(ledger) == expected
        left = db.one("SELECT count(*), min(day) FROM adoption_records")
        assert total is not None and left is not None
        assert left[0] == total[0] - len(gone) and left[1] >= first_kept
        # the same file again: nothing changes
        before = contents(ledger)
        assert ledger.adoption.ingest_adoption(made.adoption).rows_added == 0
        assert contents(ledger) == before


def test_one_bad_row_at_the_end_of_a_year_stores_nothing(
    year: tuple[Path, Path], tmp_path: Path
) -> None:
    made = organisation(tmp_path, seed=19)  # other people, other days
    with made.adoption.open("a") as handle:
        handle.write("x@corp,dept-1-team-1,copilot,activity,2026-11-31,1,\n")
    with _open(_copy(year, tmp_path), key=year[1]) as ledger:
        before = contents(ledger)
        with pytest.raises(IngestError) as error:
            ledger.adoption.ingest_adoption(made.adoption)
        [problem] = error.value.problems
        assert (problem.row, problem.column, problem.value) == (
            len(made.rows) + 1,
            "day",
            "2026-11-31",
        )
        assert contents(ledger) == before

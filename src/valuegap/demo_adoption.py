"""The demo's adoption data: Northwind's org chart, several hundred pseudonymous people and
their surveys, written as files and loaded through ``ledger.adoption`` as any organisation's.

Each business unit has its own people and teams under it, each team a ladder profile of its
unit: marketing mostly stops at access (and its brand studio has four people, fewer than k:
it is never shown on its own), risk at awareness, commerce at training, customer service at
experimentation, engineering at regular use, and operations, whose SOPs are updated and which
handles 70 % of its document volume with AI, reaches a measured outcome. Engineering's
executives are confident (4.6 of 5) while none of its AI cost is backed by a validated outcome
yet: the largest conviction distance. The people are made up (``p0001@northwind.example``)
and pseudonymised at ingest like any others.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from valuegap.ledger import Ledger

DOMAIN = "northwind.example"
ROOT = "northwind"
SMALL_TEAM = "brand-studio"  # four people: below k, rolled up into marketing

# unit -> (its initiative, its own people, {team: people}, its profile: the share of people
# whose highest rung is access, awareness, training, experimentation, regular use)
UNITS: dict[str, tuple[str, int, dict[str, int], tuple[float, ...]]] = {
    "marketing": ("loc-qa", 12, {"localisation": 30, SMALL_TEAM: 4}, (0.6, 0.2, 0.1, 0.1, 0)),
    "operations": (
        "doc-classifier",
        20,
        {"back-office": 60, "logistics": 45},
        (0.05, 0.1, 0.15, 0.2, 0.5),
    ),
    "commerce": (
        "product-recs",
        10,
        {"merchandising": 35, "web-shop": 40},
        (0.2, 0.3, 0.3, 0.15, 0.05),
    ),
    "risk": ("fraud-detection", 8, {"fraud-analytics": 25}, (0.3, 0.5, 0.1, 0.1, 0)),
    "engineering": (
        "code-review",
        15,
        {"platform": 50, "mobile": 30, "data": 25},
        (0.1, 0.1, 0.15, 0.25, 0.4),
    ),
    "customer-service": (
        "refund-agent",
        12,
        {"contact-centre": 70, "refunds-desk": 20},
        (0.1, 0.15, 0.2, 0.4, 0.15),
    ),
}
RECORDS = ("access", "awareness", "training")
FIRST_DAY = date(2025, 11, 3)  # access lists, then awareness and training a week apart
TRIED = date(2025, 12, 2)  # experimentation: one use, before the window of regular use
# Regular use: a Tuesday in each of the four whole weeks before the report date, Monday
# 2026-01-26 (the day after the latest data, Sunday 2026-01-25).
ACTIVE = [date(2025, 12, 30) + timedelta(weeks=w) for w in range(4)]
PROCESS_DAYS = [date(2026, 1, 4) + timedelta(weeks=w) for w in range(4)]  # Sundays
# unit -> executive confidence answers, manager readiness answers (1-5)
SURVEYS: dict[str, tuple[list[int], list[int]]] = {
    "marketing": ([3, 4, 3, 3, 4], [2, 3, 3, 2, 3]),
    "operations": ([4, 4, 5, 4, 4, 3], [4, 4, 3, 4, 4]),
    "commerce": ([4, 3, 4, 4, 3], [3, 3, 3, 2, 3]),
    "risk": ([3, 3, 4, 3, 3], [3, 3, 4]),  # three managers: fewer than k, not shown
    "engineering": ([5, 5, 4, 5, 4], [4, 3, 4, 3, 4, 3]),
    "customer-service": ([4, 4, 4, 5, 3], [3, 3, 4, 3, 3]),
}
SURVEY_PERIOD = "2026-01-12"


def people_count() -> int:
    return sum(own + sum(teams.values()) for _, own, teams, _ in UNITS.values())


def identifiers() -> list[str]:
    """Every raw identifier the demo's files hold: people and survey respondents."""
    return [f"p{n:04d}@{DOMAIN}" for n in range(1, people_count() + 1)] + [
        f"r{n:03d}@{DOMAIN}" for n in range(1, _respondents() + 1)
    ]


def _respondents() -> int:
    return sum(len(e) + len(m) for e, m in SURVEYS.values())


def write_files(folder: Path) -> tuple[Path, Path, Path]:
    """The org chart, the adoption records and the surveys, as CSV files in ``folder``."""
    org = [(ROOT, "")]
    adoption: list[tuple[object, ...]] = []
    n = 0
    for unit, (initiative, own, teams, profile) in UNITS.items():
        org += [(unit, ROOT), *((team, unit) for team in teams)]
        for where, size in [(unit, own), *teams.items()]:
            for i in range(size):
                n += 1
                person = f"p{n:04d}@{DOMAIN}"
                adoption += _records(person, where, initiative, _rung(i, size, profile))
        for day in PROCESS_DAYS:
            if unit == "operations":
                adoption.append(("", unit, initiative, "process", day, 1400, 2000))
    answers = []
    r = 0
    for unit, (executives, managers) in SURVEYS.items():
        for survey, given in (
            ("executive_confidence", executives),
            ("manager_readiness", managers),
        ):
            for answer in given:
                r += 1
                answers.append((unit, survey, SURVEY_PERIOD, answer, f"r{r:03d}@{DOMAIN}"))
    return (
        _write(folder / "org.csv", ("unit", "parent"), org),
        _write(
            folder / "adoption.csv",
            ("person", "unit", "subject", "record", "day", "uses", "process_volume"),
            adoption,
        ),
        _write(
            folder / "survey.csv", ("unit", "survey", "period", "answer", "respondent"), answers
        ),
    )


def load_demo_adoption(ledger: Ledger, folder: Path) -> None:
    """Write the files and load them, as finance would."""
    org, adoption, survey = write_files(folder)
    ledger.adoption.ingest_org(org)
    ledger.adoption.ingest_adoption(adoption)
    ledger.adoption.ingest_survey(survey)


def _rung(i: int, size: int, profile: tuple[float, ...]) -> int:
    """The highest rung (0 access to 4 regular use) of the ``i``-th of ``size`` people: the
    first rungs go to the first people, in the profile's shares."""
    reached = 0.0
    for rung, share in enumerate(profile):
        reached += share
        if i < round(reached * size):
            return rung
    return len(profile) - 1


def _records(person: str, unit: str, subject: str, rung: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (person, unit, subject, record, FIRST_DAY + timedelta(weeks=w), "", "")
        for w, record in enumerate(RECORDS[: rung + 1])
    ]
    if rung >= 3:
        rows.append((person, unit, subject, "activity", TRIED, 2, ""))
    if rung == 4:
        rows += [(person, unit, subject, "activity", day, 3, "") for day in ACTIVE]
    return rows


def _write(path: Path, header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path

"""A small organisation whose adoption figures are worked out by hand (tests/store/
test_adoption_counts.py), a generated one of realistic size, and helpers that write adoption
files."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ORG = [("acme", ""), ("sales", "acme"), ("ops", "acme"), ("sales-emea", "sales")]
ADOPTION_HEADER = ("person", "unit", "subject", "record", "day", "uses", "process_volume")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def ladder(person: str, unit: str, subject: str, day: str, rungs: str) -> list[tuple[object, ...]]:
    """Records of ``rungs`` (a: access, w: awareness, t: training) on ``day``."""
    kinds = {"a": "access", "w": "awareness", "t": "training"}
    return [(person, unit, subject, kinds[r], day, "", "") for r in rungs]


def activity(
    person: str, unit: str, subject: str, days: Sequence[str], uses: int = 2
) -> list[tuple[object, ...]]:
    return [(person, unit, subject, "activity", day, uses, "") for day in days]


# The report date is Saturday 2026-12-05; its week starts Monday 2026-11-30. The four whole
# ISO weeks before it: W1 11-02..11-08, W2 11-09..11-15, W3 11-16..11-22, W4 11-23..11-29.
W1, W2, W3, W4, THIS_WEEK = "2026-11-03", "2026-11-10", "2026-11-17", "2026-11-24", "2026-12-01"

HAND_BUILT = [
    # sales: p1 active in W1-W3 (regular use), p2 in W1-W2 (experimentation), p3 trained,
    # p4 aware, p5 access only, p6 activity without access (no rung), p11 trained in chat
    # and active in copilot without access there (training, its highest in any one subject)
    *ladder("p1@corp", "sales", "copilot", "2026-10-01", "awt"),
    *activity("p1@corp", "sales", "copilot", [W1, W2, W3]),
    *ladder("p2@corp", "sales", "copilot", "2026-10-01", "awt"),
    *activity("p2@corp", "sales", "copilot", [W1, W2]),
    *ladder("p3@corp", "sales", "copilot", "2026-10-01", "awt"),
    *ladder("p4@corp", "sales", "copilot", "2026-10-01", "aw"),
    *ladder("p5@corp", "sales", "copilot", "2026-10-01", "a"),
    *activity("p6@corp", "sales", "copilot", [W1, W2, W3, W4]),
    *ladder("p11@corp", "sales", "chat", "2026-10-01", "awt"),
    *activity("p11@corp", "sales", "copilot", [W1, W2, W3]),
    # ops: p7 active in W1-W4 (regular use; an older chat access in sales: their unit is that
    # of their latest record, ops); p8's activity in the window has no uses, and its one use
    # is this week, outside the window (experimentation); p9 has two records on its latest
    # day, in ops and sales-emea: the unit first in alphabetical order, ops (access)
    *ladder("p7@corp", "sales", "chat", "2026-09-01", "a"),
    *ladder("p7@corp", "ops", "copilot", "2026-10-01", "awt"),
    *activity("p7@corp", "ops", "copilot", [W1, W2, W3, W4]),
    *ladder("p8@corp", "ops", "copilot", "2026-10-01", "awt"),
    *activity("p8@corp", "ops", "copilot", [W1, W2, W3], uses=0),
    *activity("p8@corp", "ops", "copilot", [THIS_WEEK], uses=5),
    *ladder("p9@corp", "ops", "copilot", "2026-11-20", "a"),
    *ladder("p9@corp", "sales-emea", "chat", "2026-11-20", "a"),
    # sales-emea: p10 active in W2-W4 (regular use); a record after the report date, in ops,
    # does not move them
    *ladder("p10@corp", "sales-emea", "copilot", "2026-10-01", "awt"),
    *activity("p10@corp", "sales-emea", "copilot", [W2, W3, W4]),
    *activity("p10@corp", "ops", "copilot", ["2026-12-10"]),
    # process volume: in the window, ops copilot 40 of 100 and 10 of 50; sales chat 5 of 20;
    # before the window and this week: left out
    ("", "ops", "copilot", "process", W1, 40, 100),
    ("", "ops", "copilot", "process", W4, 10, 50),
    ("", "ops", "copilot", "process", "2026-10-30", 7, 7),
    ("", "ops", "copilot", "process", THIS_WEEK, 99, 99),
    ("", "sales", "chat", "process", W2, 5, 20),
]

SURVEY = [
    # sales, executive confidence: an older period, then 5, 4, 4 (mean 13/3)
    *[("sales", "executive_confidence", "2026-07-01", a) for a in (2, 2, 3)],
    *[("sales", "executive_confidence", "2026-10-01", a) for a in (5, 4, 4)],
    # ops, manager readiness: 1, 2, 3, 4 (mean 2.5); a period after the report date
    *[("ops", "manager_readiness", "2026-10-01", a) for a in (1, 2, 3, 4)],
    *[("ops", "manager_readiness", "2027-01-04", a) for a in (5, 5, 5, 5, 5)],
]


@dataclass(frozen=True)
class Organisation:
    """A generated organisation: its files, the raw identifiers in them (people's e-mail
    addresses, as written, and survey respondents), and the adoption rows as written."""

    org: Path
    adoption: Path
    survey: Path
    identifiers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


FIRST_DAY = date(2025, 12, 1)  # a year of daily activity: 2025-12-01 to 2026-11-30
DAYS = 365


def organisation(folder: Path, people: int = 400, seed: int = 18) -> Organisation:
    """Eight departments of three teams each under one root, ``people`` people spread over the
    teams (the last team has four), each given access, most aware and trained, and active on
    some of the weekdays of a year; process volume per team and day; two surveys a quarter."""
    rng = random.Random(seed)
    departments = [f"dept-{d}" for d in range(8)]
    teams = [f"{d}-team-{t}" for d in departments for t in range(3)]
    org = [("acme", ""), *((d, "acme") for d in departments)]
    org += [(t, t.rsplit("-team-", 1)[0]) for t in teams]
    names = [
        f"Person.{n:04d}.{rng.choice(['Ng', 'Okafor', 'Silva'])}@Corp.example"
        for n in range(people)
    ]
    unit_of = {name: teams[-1] if n < 4 else rng.choice(teams[:-1]) for n, name in enumerate(names)}
    rows: list[tuple[object, ...]] = []
    for name in names:
        unit = unit_of[name]
        written = name if rng.random() < 0.5 else f" {name.lower()} "  # spelt two ways
        rows += ladder(written, unit, "copilot", "2025-12-01", "awt"[: rng.choice([1, 2, 3, 3])])
        rate = rng.choice([0.0, 0.1, 0.3, 0.6])
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            if day.weekday() < 5 and rng.random() < rate:
                rows.append((written, unit, "copilot", "activity", day, rng.randint(1, 9), ""))
    for team in teams:
        for offset in range(0, DAYS, 7):
            total = rng.randint(50, 200)
            day = FIRST_DAY + timedelta(days=offset)
            rows.append(("", team, "copilot", "process", day, rng.randint(0, total), total))
    respondents = [f"respondent.{n}@corp.example" for n in range(60)]
    answers = [
        (rng.choice(departments), survey, period, rng.randint(1, 5), who)
        for period in ("2026-03-01", "2026-06-01", "2026-09-01")
        for survey in ("executive_confidence", "manager_readiness")
        for who in respondents
    ]
    return Organisation(
        write_csv(folder / "org.csv", ("unit", "parent"), org),
        write_csv(folder / "adoption.csv", ADOPTION_HEADER, rows),
        write_csv(
            folder / "survey.csv", ("unit", "survey", "period", "answer", "respondent"), answers
        ),
        (*names, *respondents),
        tuple(rows),
    )

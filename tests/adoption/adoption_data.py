"""A small organisation whose adoption figures are worked out by hand (test_counts.py), and
helpers that write adoption files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

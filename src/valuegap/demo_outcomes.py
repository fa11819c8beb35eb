"""The demo organisation's measured outcomes: what Northwind's finance team loaded.

Each initiative shows one way value is (or is not) demonstrated:

- refund-agent: direct counts of tickets resolved with no human touch, from the ticketing
  system (validated);
- doc-classifier: review hours before and after, 40 -> 8 a week in each of six teams
  (validated); of the hours saved, some were not captured (neither redeployed nor a cost
  reduced);
- product-recs: an A/B test on accepted recommendations per session (validated);
- fraud-detection: a regional rollout measured as a difference-in-differences (validated);
- code-review: an A/B test whose interval includes zero (not validated), and reviewers
  override 90 % of the AI's comments;
- meeting-summariser: hours measured before finance agreed the method (never validated), then
  killed;
- loc-qa: QA hours before and after (validated), while accuracy fell from the PoC's 95 % to
  72 % in production (drift).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from valuegap.ledger import Ledger
from valuegap.months import add_months

MONTHS = [add_months(date(2025, 7, 1), m) for m in range(13)]  # 2025-07 .. 2026-07
QUARTERS = MONTHS[::3]


def load_demo_outcomes(ledger: Ledger, folder: Path) -> None:
    """Write the demo's measurement files into ``folder`` and ingest them."""
    for kind, rows in (
        ("observations", _observations()),
        ("outcomes", _outcomes()),
        ("behaviour", _behaviour()),
        ("quality", _quality()),
        ("capacity", _capacity()),
    ):
        path = folder / f"{kind}.csv"
        _write(path, rows)
        ledger.outcomes.ingest_measures(kind, path)  # type: ignore[arg-type]


def _write(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _obs(metric: str, start: date, end: date, group: str, phase: str, n: int, mean: float,
         sd: float, volume: Any = "") -> dict[str, Any]:  # fmt: skip
    return {"metric": metric, "period_start": start, "period_end": end, "group": group,
            "phase": phase, "n": n, "mean": mean, "sd": sd, "volume": volume}  # fmt: skip


def _observations() -> list[dict[str, Any]]:
    rows = [
        # doc-classifier: 13 weeks of the baseline quarter, 40 review hours a week
        _obs("doc-review-hours", date(2024, 10, 1), date(2025, 1, 1), "all", "before", 13, 40.0,
             3.5),
        # loc-qa: six months of QA hours before the assistant
        _obs("loc-qa-hours", date(2024, 7, 1), date(2025, 1, 1), "all", "before", 6, 300.0, 25.0),
        # fraud-detection: losses per region and month, the quarter before the rollout
        _obs("fraud-losses", date(2025, 4, 1), date(2025, 7, 1), "treatment", "before", 18,
             34000.0, 5000.0),
        _obs("fraud-losses", date(2025, 4, 1), date(2025, 7, 1), "control", "before", 18,
             33000.0, 5200.0),
        # meeting-summariser: hours saved, measured from April (finance agreed in June)
        _obs("summary-hours-saved", date(2025, 4, 1), date(2025, 7, 1), "all", "after", 40, 0.3,
             1.1, 13),
    ]  # fmt: skip
    for n, (start, end) in enumerate(pairwise(QUARTERS)):
        rows += [
            # six review teams: 13 weeks x 6 teams = 78 team-weeks a quarter
            _obs("doc-review-hours", start, end, "all", "after", 13, 8.0 + n * 0.2, 2.0, 78),
            # QA hours a month per language team; four teams: 3 months x 4 = 12 team-months
            _obs("loc-qa-hours", start, end, "all", "after", 3, 160.0 - 5 * n, 15.0, 12),
            _obs("recs-order-value", start, end, "treatment", "after", 20000, 0.42 + 0.01 * n,
                 0.9, 450000),
            _obs("recs-order-value", start, end, "control", "after", 20000, 0.30, 0.85),
            _obs("fraud-losses", start, end, "treatment", "after", 18, 26500.0 - 500 * n,
                 4800.0, 48),  # 16 treated regions x 3 months
            _obs("fraud-losses", start, end, "control", "after", 18, 33500.0, 5100.0),
            _obs("review-cycle-hours", start, end, "treatment", "after", 60, 24.8, 9.0, 1200),
            _obs("review-cycle-hours", start, end, "control", "after", 60, 26.0, 9.0),
        ]  # fmt: skip
    return rows


def _outcomes() -> list[dict[str, Any]]:
    rows = []
    for n, (start, end) in enumerate(pairwise(MONTHS[1:])):
        rows.append({"initiative": "refund-agent", "metric": "refunds-resolved",
                     "period_start": start, "period_end": end, "count": 5000 + 1000 * n,
                     "source": "Ticketing system"})  # fmt: skip
    for n, (start, end) in enumerate(pairwise(MONTHS)):
        rows.append({"initiative": "doc-classifier", "metric": "", "period_start": start,
                     "period_end": end, "count": 5200 + 350 * n,
                     "source": "Workflow system: documents routed uncorrected"})  # fmt: skip
    return rows


def _behaviour() -> list[dict[str, Any]]:
    rows = []
    for start, end in pairwise(MONTHS):
        for initiative, decisions, accepted, overridden, escalated, minutes in (
            ("code-review", 3000, 240, 2700, 60, 9000),
            ("refund-agent", 1800, 1540, 216, 44, 2700),
            ("doc-classifier", 6000, 5700, 240, 60, 3000),
        ):
            rows.append({"initiative": initiative, "period_start": start, "period_end": end,
                         "decisions": decisions, "accepted": accepted, "overridden": overridden,
                         "escalated": escalated, "review_minutes": minutes})  # fmt: skip
    return rows


def _quality() -> list[dict[str, Any]]:
    rows = [{"initiative": "loc-qa", "period_start": date(2025, 2, 1),
             "period_end": date(2025, 3, 1), "measure": "accuracy", "score": 0.95,
             "sample_size": 400, "reference": "true"}]  # fmt: skip
    scores = [0.93, 0.92, 0.9, 0.88, 0.86, 0.84, 0.83, 0.81, 0.79, 0.77, 0.75, 0.72]
    for score, start, end in zip(scores, MONTHS, MONTHS[1:], strict=False):
        rows.append({"initiative": "loc-qa", "period_start": start, "period_end": end,
                     "measure": "accuracy", "score": score, "sample_size": 300,
                     "reference": "false"})  # fmt: skip
    return rows


def _capacity() -> list[dict[str, Any]]:
    # 32 hours a week in six teams, about 2,500 a quarter: most redeployed, some never captured
    return [
        {"initiative": "doc-classifier", "metric": "doc-review-hours", "period_start": start,
         "period_end": end,
         "redeployed": 1500, "cost_reduced": 540, "not_captured": 456}
        for start, end in pairwise(QUARTERS)
    ]  # fmt: skip

"""A review that recommends kill or fix binds the gates: no promotion until a later review
recommends otherwise, or governance approves the move."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from valuegap import Ledger
from valuegap.settings import Settings


def _quality(folder: Path, score: str) -> Path:
    path = folder / f"quality-{score}.csv"
    path.write_text(
        "initiative,period_start,period_end,score,sample_size,measure\n"
        f"loc-qa,2026-02-01,2026-03-01,{score},500,accuracy\n"
    )
    return path


def test_a_kill_review_stops_a_promotion_until_a_later_review(
    demo_copy: Path, tmp_path: Path
) -> None:
    settings = Settings(db=demo_copy)
    with Ledger.open(demo_copy, actor="you", settings=settings) as ledger:
        assert ledger.governance.gates.gate_check("loc-qa", "scaled").outcome == "allow"
        ledger.outcomes.ingest_measures("quality", _quality(tmp_path, "0.72"))
        [review] = [
            r
            for r in ledger.governance.run_reviews(as_of=date(2026, 3, 9))
            if r.initiative == "loc-qa"
        ]
        assert review.recommendation == "kill"  # accuracy 0.72 < 0.8, a kill criterion
        decision = ledger.governance.gates.gate_check("loc-qa", "scaled")
        assert decision.outcome in ("deny", "require_approval")
        bound = [r for r in decision.rules if r.id == "review-binds-promotion"]
        assert [r.message for r in bound] == [
            "The latest review (as of 2026-03-09) recommends kill: no promotion until a later "
            "review recommends otherwise, or governance approves it."
        ]
        # A retirement is not a promotion: the review does not hold it up.
        retire = ledger.governance.gates.gate_check(
            "loc-qa", "retired", reason="killed", learnings="quality"
        )
        assert retire.outcome == "allow"
        asked = ledger.governance.gates.advance("loc-qa", "scaled")
        assert (asked.moved, asked.decision.rule_ids) == (False, ["review-binds-promotion"])
    # A governance approval lifts it (four eyes: not the one who asked).
    with Ledger.open(demo_copy, actor="grace.okafor", settings=settings) as ledger:
        assert asked.approval_id is not None
        assert ledger.governance.gates.approve(asked.approval_id, "fixed the QA set").moved
        assert ledger.portfolio.initiative("loc-qa").stage == "scaled"


def test_a_later_review_lifts_it(demo_copy: Path, tmp_path: Path) -> None:
    with Ledger.open(demo_copy, actor="you") as ledger:
        ledger.outcomes.ingest_measures("quality", _quality(tmp_path, "0.72"))
        ledger.governance.run_reviews(as_of=date(2026, 3, 9))
        assert ledger.governance.gates.gate_check("loc-qa", "scaled").outcome == "require_approval"
        better = tmp_path / "better.csv"
        better.write_text(
            "initiative,period_start,period_end,score,sample_size,measure\n"
            "loc-qa,2026-08-01,2026-09-01,0.93,500,accuracy\n"
        )
        ledger.outcomes.ingest_measures("quality", better)
        [review] = [
            r
            for r in ledger.governance.run_reviews(as_of=date(2026, 9, 9))
            if r.initiative == "loc-qa"
        ]
        assert review.recommendation not in ("kill", "fix")
        assert ledger.governance.gates.gate_check("loc-qa", "scaled").outcome == "allow"

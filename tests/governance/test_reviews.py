"""Scale-or-kill reviews, their dates, and the formulas behind them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.governance.reviews import recommend
from valuegap.outcomes.periods import parse_period

from ..conftest import SteppingClock, ready


def _context(**changes: object) -> dict[str, object]:
    context: dict[str, object] = {
        "initiative": {"kill_criteria": ["roi < 0 && months_live >= 6", "accuracy < 0.8"],
                       "months_live": 3, "months_in_stage": 3},
        "metrics": [{"validated": True, "primary": True}],
        "finance": {"roi": 0.4, "roi_conservative": 0.1, "total_cost": 100.0, "value": 140.0,
                    "expected_roi": 0.3, "expected_roi_low": 0.1},
        "behaviour": {"override_rate": 0.1, "acceptance_rate": 0.9, "escalation_rate": 0.0},
        "quality": {"measure": "accuracy", "latest": 0.9, "reference": 0.92, "drop": 0.02,
                    "drifted": False},
    }  # fmt: skip
    for path, value in changes.items():
        part, name = path.split("__")
        target = context[part]
        if isinstance(target, list):
            target[0][name] = value
        else:
            target[name] = value  # type: ignore[index]
    return context


def test_a_kill_criterion_that_holds_means_kill_with_its_values() -> None:
    said, reasons = recommend(_context(quality__latest=0.72), "validated", 0.5)
    assert said == "kill"
    assert reasons == ["Kill criterion `accuracy < 0.8` holds (accuracy = 0.72)."]
    said, reasons = recommend(
        _context(finance__roi=-0.2, initiative__months_live=7), "validated", 0.5
    )
    assert said == "kill"
    assert reasons == [
        "Kill criterion `roi < 0 && months_live >= 6` holds (roi = -0.2, months_live = 7)."
    ]


def test_what_can_be_repaired_means_fix() -> None:
    said, reasons = recommend(
        _context(metrics__validated=False, behaviour__override_rate=0.62),
        "doc-hours: the 95 % interval [-2.1, 4.5] includes zero", 0.5,
    )  # fmt: skip
    assert said == "fix"
    assert reasons == [
        "No validated outcome yet (doc-hours: the 95 % interval [-2.1, 4.5] includes zero).",
        "People override 62% of its decisions (more than 50%): ask them why before scaling it.",
    ]


def test_validated_at_or_above_the_business_case_means_scale_below_it_continue() -> None:
    assert recommend(_context(), "validated", 0.5) == ("scale", [
        "Validated outcome, and ROI so far 0.40 is at or above the business case's 0.30 for "
        "these months."])  # fmt: skip
    said, reasons = recommend(_context(finance__roi=0.05), "validated", 0.5)
    assert said == "continue"
    assert reasons[0].startswith(
        "Validated outcome, but ROI so far 0.05 is below the business case's band (from 0.10; "
        "it projects 0.30)"
    )


def test_inside_the_band_is_not_a_failure_and_below_zero_is_the_expected_dip() -> None:
    # The business case projects 0.30 with a band of 0.2: from 0.10 up, ROI is on course.
    assert recommend(_context(finance__roi=0.1), "validated", 0.5) == (
        "scale",
        [
            "Validated outcome, and ROI so far 0.10 is inside the business case's band for these "
            "months (from 0.10; it projects 0.30)."
        ],
    )
    # Early in the J-curve: projected -0.25, band from -0.45; -0.40 is the expected dip.
    dip = _context(finance__roi=-0.4, finance__expected_roi=-0.25, finance__expected_roi_low=-0.45)
    said, reasons = recommend(dip, "validated", 0.5)
    assert said == "scale"
    assert reasons[0] == (
        "Validated outcome, and ROI so far -0.40 is inside the business case's band for these "
        "months (from -0.45; it projects -0.25), below zero as the business case expects: the "
        "J-curve's dip, which is normal."
    )
    below = _context(
        finance__roi=-0.5, finance__expected_roi=-0.25, finance__expected_roi_low=-0.45
    )
    assert recommend(below, "validated", 0.5)[0] == "continue"


def test_a_criterion_that_cannot_be_evaluated_is_said_not_hidden() -> None:
    said, reasons = recommend(
        _context(finance__roi=None, finance__expected_roi=None, initiative__months_live=7),
        "validated", 0.5,
    )  # fmt: skip
    assert said == "continue"
    assert any("`roi < 0 && months_live >= 6` could not be evaluated" in r for r in reasons)


def test_review_run_records_what_is_due_once(db_path: Path, tmp_path: Path) -> None:
    clock = SteppingClock(datetime(2025, 3, 10, 9, 0))
    counted = {"id": "a-resolved", "name": "Resolved", "unit": "tickets",
               "direction": "increase", "baseline": {"value": 0, "period": "2025-Q1"},
               "value_per_unit": 4, "currency": "USD", "method": "direct",
               "agreed_by": "Finn (Finance)", "agreed_at": date(2025, 3, 1)}  # fmt: skip
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:
        ledger.portfolio.add_initiative(ready("a", metrics=[counted],
                                    kill_criteria=["roi < 0 && months_in_stage >= 6"]))  # fmt: skip
        ledger.portfolio.add_initiative(ready("b"))
        ledger.governance.gates.advance("a", "poc")
        ledger.governance.gates.advance("a", "mvp")
        assert ledger.governance.next_review("a") == date(2025, 9, 10)
        assert ledger.governance.next_review("b") is None
        # a validated outcome, worth 40 USD, against 100 USD of cost: ROI -0.6
        outcomes = tmp_path / "outcomes.csv"
        outcomes.write_text("initiative,metric,period_start,period_end,count,source\n"
                            "a,a-resolved,2025-06-01,2025-07-01,10,Ticketing system\n")  # fmt: skip
        costs = tmp_path / "costs.csv"
        costs.write_text(
            "period_start,period_end,category,amount,currency,initiative,business_unit,"
            "description\n2025-06-01,2025-07-01,development,100,USD,a,ops,Build\n"
        )
        ledger.outcomes.ingest_measures("outcomes", outcomes)
        ledger.costs.ingest_costs(costs)

        clock.now = datetime(2025, 9, 10, 12, 0)
        assert ledger.governance.run_reviews(date(2025, 9, 9)) == []
        [review] = ledger.governance.run_reviews(date(2025, 9, 10))
        assert (review.initiative, review.due, review.recommendation) == (
            "a", date(2025, 9, 10), "kill",
        )  # fmt: skip
        assert review.reasons == ["Kill criterion `roi < 0 && months_in_stage >= 6` holds "
                                  "(roi = -0.6, months_in_stage = 6)."]  # fmt: skip
        assert ledger.governance.run_reviews(date(2025, 9, 10)) == []
        assert ledger.governance.next_review("a") == date(2026, 3, 10)
        assert [r.recommendation for r in ledger.governance.reviews("a")] == ["kill"]
        [entry] = ledger.governance.audit.audit_log(limit=1)
        assert (entry.action, entry.entity_id) == ("review.record", "a")

        # a validated initiative retired after a kill recommendation is a laggard retired
        clock.now = datetime(2025, 9, 20, 9, 0)
        ledger.governance.gates.retire(
            "a", reason="Killed at review", learnings="Price it before the MVP"
        )
        board = ledger.outcomes.scoreboard(parse_period("2025-Q3"))
        assert ledger.outcomes.initiative_report("a").validated is True
        assert board.overall.laggards_retired == ["a"]


def test_review_needs_the_governance_role(ledger: Ledger) -> None:
    ledger.governance.users.add_user("carl", "contributor", ["ops"])
    from valuegap.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="may not run reviews"):
        ledger.acting_as("carl").governance.run_reviews()


def test_the_reviews_of_an_unknown_initiative_are_not_found(ledger: Ledger) -> None:
    from valuegap.errors import NotFound

    with pytest.raises(NotFound, match="no initiative 'bogus'"):
        ledger.governance.reviews("bogus")


@pytest.mark.parametrize(
    ("roi", "expected", "low", "passes"),
    [
        (-0.40, -0.25, -0.45, True),  # below zero inside the band: the expected dip
        (-0.45, -0.25, -0.45, True),  # on the band's lower edge
        (-0.50, -0.25, -0.45, False),  # below the band
        (0.20, 0.30, 0.10, True),  # below the projection, inside the band
        (-0.01, None, None, False),  # no business case: break-even at least
        (0.00, None, None, True),
    ],
)
def test_the_scaled_gate_compares_with_the_band(
    roi: float, expected: float | None, low: float | None, passes: bool
) -> None:
    from valuegap.governance.api import DEFAULT_POLICIES
    from valuegap.governance.context import for_transitions
    from valuegap.governance.policy import compile_condition, evaluate_condition, parse_policy

    pack = parse_policy(DEFAULT_POLICIES.read_text(), "default")
    [rule] = [r for r in pack.rules if r.id == "scaled-roi-at-projection"]
    program, _ = compile_condition(rule.expr, for_transitions(), "", [])
    finance = {"roi": roi, "expected_roi": expected, "expected_roi_low": low}
    assert evaluate_condition(program, {"finance": finance}) == (passes, None)

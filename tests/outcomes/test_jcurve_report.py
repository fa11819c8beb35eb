"""The J-curve report: an initiative's actuals against its business case, worked by hand, and
the demo's portfolio with an initiative in each status."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import ValidationError
from valuegap.model.portfolio import Portfolio

from ..conftest import SteppingClock


def _portfolio() -> Portfolio:
    # Adoption 1/4, 1/2, 3/4 in months 1 to 3 (midpoint 2, steepness ln 3: tests/forecast).
    case = {
        "currency": "USD",
        "monthly_investment": 1000,
        "monthly_value_at_full_adoption": 3000,
        "adoption_ramp": {"ceiling": 1, "midpoint_month": 2, "steepness": math.log(3)},
    }
    metric = {
        "id": "resolved",
        "name": "Tickets resolved",
        "unit": "tickets",
        "direction": "increase",
        "baseline": {"value": 0, "period": "2025-Q3"},
        "value_per_unit": 10,
        "currency": "USD",
        "method": "direct",
    }
    return Portfolio.model_validate(
        {
            "initiatives": [
                {
                    "id": "bot",
                    "name": "Ticket bot",
                    "kind": "agent",
                    "business_unit": "service",
                    "owner": "Olga",
                    "risk_tier": "minimal",
                    "business_case": case,
                    "metrics": [metric],
                },
                {
                    "id": "idea",
                    "name": "An idea",
                    "kind": "use_case",
                    "business_unit": "service",
                    "business_case": case,
                },
            ]
        }
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2025, 12, 1, 9, 0))


@pytest.fixture
def started(ledger: Ledger, clock: SteppingClock, tmp_path: Path) -> Ledger:
    ledger.portfolio.apply(_portfolio())
    clock.now = datetime(2025, 12, 15, 9, 0)
    ledger.governance.gates.advance("bot", "poc")  # month 1 is December 2025
    costs = """
period_start,period_end,category,amount,currency,initiative,business_unit,description
2025-11-01,2025-12-01,development,200,USD,bot,,before the PoC
2025-12-01,2026-01-01,development,800,USD,bot,,
2026-01-01,2026-02-01,development,1000,USD,bot,,
2026-02-01,2026-03-01,development,1000,USD,bot,,the month in progress
"""
    ledger.costs.ingest_costs(_write(tmp_path / "costs.csv", costs))
    outcomes = """
initiative,metric,period_start,period_end,count,source
bot,resolved,2025-12-01,2026-01-01,50,Ticketing system
bot,resolved,2026-01-01,2026-02-01,150,Ticketing system
"""
    ledger.outcomes.ingest_measures("outcomes", _write(tmp_path / "outcomes.csv", outcomes))
    clock.now = datetime(2026, 2, 10, 9, 0)
    return ledger


def test_actuals_against_the_business_case_by_hand(started: Ledger) -> None:
    report = started.outcomes.jcurve("bot", months=3)
    # Expected net: 3,000 x 1/4 - 1,000 = -250; 3,000 x 1/2 - 1,000 = 500; 2,250 - 1,000 = 1,250;
    # cumulative -250, 250, 1,500: the trough is month 1 at -250, payback month 2.
    # The band is 20 % of the investment so far: -250 +- 200, 250 +- 400, 1,500 +- 600.
    assert [m.expected_cumulative for m in report.months] == [Decimal(-250), 250, 1500]
    assert [(m.band_low, m.band_high) for m in report.months] == [
        (Decimal(-450), Decimal(-50)),
        (Decimal(-150), Decimal(650)),
        (900, 2100),
    ]
    assert (report.trough_month, report.trough_depth, report.payback_month) == (1, Decimal(-250), 2)
    assert [m.calendar_month for m in report.months] == ["2025-12", "2026-01", "2026-02"]
    # Actual, month 1: 50 tickets x 10 = 500 of value less 1,000 of cost (November's 200 counts
    # in month 1): -500, below the band (-450): behind. Month 2: 1,500 - 1,000 = 500, cumulative
    # 0, inside the band and not below zero: on track. February has not ended: no actual.
    assert [m.actual_net for m in report.months] == [Decimal(-500), Decimal(500), None]
    assert [m.actual_cumulative for m in report.months] == [Decimal(-500), Decimal(0), None]
    assert [m.status for m in report.months] == ["behind", "on_track", None]
    assert (report.latest_month, report.status, report.start) == (2, "on_track", "2025-12")
    assert "on track" in report.explanation


def test_before_the_start_the_curve_is_named_in_advance(started: Ledger) -> None:
    report = started.outcomes.jcurve("idea", months=3)
    assert report.start is None and report.status is None
    assert [m.calendar_month for m in report.months] == [None, None, None]
    assert (report.trough_month, report.trough_depth, report.payback_month) == (1, Decimal(-250), 2)
    assert report.explanation == (
        "The business case expects its trough in month 1 at -250.00 USD, and payback in month 2. "
        "No actuals yet: this is the curve named in advance."
    )


def test_the_portfolio_sums_the_started_initiatives(started: Ledger) -> None:
    report = started.outcomes.portfolio_jcurve(months=3)
    assert [(line.id, line.start, line.status) for line in report.initiatives] == [
        ("bot", "2025-12", "on_track"),
        ("idea", None, None),
    ]
    assert [m.expected_cumulative for m in report.months] == [Decimal(-250), 250, 1500]
    assert report.status == "on_track"


def test_bad_requests_name_the_field(started: Ledger) -> None:
    with pytest.raises(ValidationError) as raised:
        started.outcomes.jcurve("bot", months=0)
    assert raised.value.problems[0].where == "months"


def test_the_demo_shows_every_status(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board") as ledger:
        report = ledger.outcomes.portfolio_jcurve()
        summariser = ledger.outcomes.jcurve("meeting-summariser")
        spent = ledger.outcomes.initiative_report("meeting-summariser")
    statuses = {line.id: line.status for line in report.initiatives}
    assert set(statuses.values()) == {"ahead", "on_track", "in_expected_dip", "behind"}
    assert (statuses["meeting-summariser"], statuses["code-review"]) == (
        "in_expected_dip",
        "behind",
    )
    # Its line says when it was retired: no live status since (the page shows "retired").
    retired = {line.id: line.retired for line in report.initiatives if line.retired}
    assert retired == {"meeting-summariser": "2025-09"}
    # Retired in its month 9 while in the dip its business case named: the explanation says so.
    assert summariser.status == "in_expected_dip" and "normal" in summariser.explanation
    assert summariser.latest_month is not None
    latest = summariser.months[summariser.latest_month - 1]
    assert latest.actual_cumulative == spent.cumulative_value - spent.cumulative_cost
    # Its case, 10,500 a month and 30,000 at full adoption, ceiling 0.8, midpoint 9, steepness
    # 0.6, worked with floats: the expected cumulative net value after month 8.
    adoption = [0.8 / (1 + math.exp(-0.6 * (m - 9))) for m in range(1, 9)]
    expected = 30_000 * sum(adoption) - 8 * 10_500
    assert float(latest.expected_cumulative) == pytest.approx(expected, abs=0.01)


def test_the_command_shows_one_initiative_or_the_portfolio(demo: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(
        app, ["--db", str(demo), "--as", "exec.board", "report", "jcurve", "meeting-summariser"]
    )
    assert one.exit_code == 0, one.output
    assert "in_expected_dip" in one.output and "trough_month" in one.output
    every = runner.invoke(
        app, ["--db", str(demo), "--as", "exec.board", "report", "jcurve", "--format", "csv"]
    )
    assert every.exit_code == 0, every.output
    assert every.output.splitlines()[0].startswith("month,calendar_month,adoption,expected_net")

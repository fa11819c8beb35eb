"""Daily spend, forecasts and anomalies through the ledger (``ledger.costs.spend``): a
hand-built month of usage forecast to its worked figure, a spike and a plateau, and daily spend
adding up to the cost report."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import ValidationError
from valuegap.model.portfolio import Portfolio

from ..conftest import SteppingClock

JUNE = date(2026, 6, 1)  # a Monday
HEADER = ["request_id", "spend", "startTime", "endTime", "model", "custom_llm_provider"]


def _usage(path: Path, spend: dict[tuple[date, str], Decimal]) -> Path:
    """A LiteLLM spend log: one call a day and model, costing ``spend``."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n, ((day, model), amount) in enumerate(sorted(spend.items())):
            when = f"{day} 12:00:00"
            writer.writerow([f"r{n}", str(amount), when, when, model, "openai"])
    return path


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days)]


def test_a_hand_built_month_forecasts_its_worked_figure(ledger: Ledger, tmp_path: Path) -> None:
    # 1-10 June 2026: 100 a weekday, 20 a weekend day (as tests/forecast/test_spend.py works
    # out: 840 so far; 14 weekdays and 6 weekend days left, 1,520; forecast 2,360, interval of
    # width 0).
    spend = {
        (d, "gpt-4o"): Decimal(20 if d.weekday() >= 5 else 100)
        for d in _days(JUNE, date(2026, 6, 11))
    }
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    found = ledger.costs.spend.forecast(["model"], JUNE, as_of=date(2026, 6, 11))
    (line,) = found.lines
    assert (line.model, line.spent, line.forecast) == ("gpt-4o", Decimal(840), Decimal(2360))
    assert line.low == line.high == Decimal(2360)
    assert (line.weekday_rate, line.weekend_rate) == (Decimal(100), Decimal(20))
    assert (found.days_left, found.total.forecast) == (20, Decimal(2360))
    daily = ledger.costs.spend.daily(["model"], JUNE, date(2026, 6, 11))
    assert [(d.day, d.cost, d.estimated) for d in daily][:2] == [
        (JUNE, Decimal(100), Decimal(100)),
        (date(2026, 6, 2), Decimal(100), Decimal(100)),
    ]


def test_a_spike_is_flagged_with_its_line_and_a_plateau_is_not_once_settled(
    ledger: Ledger, tmp_path: Path
) -> None:
    # gpt-4o costs 100 a day from 4 May; on 9 June it costs 500. gpt-4o-mini costs 10 a day,
    # and 30 from 1 June on: a plateau, flagged from 1 June until it has settled, on 15 June
    # (two of the four same weekdays before at 30), and never after.
    days = _days(date(2026, 5, 4), date(2026, 7, 1))
    spend = {(d, "gpt-4o"): Decimal(500 if d == date(2026, 6, 9) else 100) for d in days}
    spend |= {(d, "gpt-4o-mini"): Decimal(30 if d >= JUNE else 10) for d in days}
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    report = ledger.costs.spend.anomalies(["model"], JUNE, date(2026, 7, 1))
    spikes = [a for a in report.anomalies if a.model == "gpt-4o"]
    assert [(a.day, a.cost, a.expected, a.direction) for a in spikes] == [
        (date(2026, 6, 9), Decimal(500), Decimal(100), "up")
    ]
    (driver,) = spikes[0].lines
    assert (driver.model, driver.provider, driver.change) == ("gpt-4o", "openai", Decimal(400))
    plateau = [a for a in report.anomalies if a.model == "gpt-4o-mini"]
    assert [a.day for a in plateau] == _days(JUNE, date(2026, 6, 15))
    assert {a.since for a in plateau} == {JUNE}
    # Alerts are raised once per run: the findings name the plateau by its first day.
    findings = ledger.costs.spend.findings(today=date(2026, 6, 10))
    assert {f.key for f in findings if f.kind == "spend_anomaly"} == {
        "spend_anomaly:initiative=(unallocated):2026-06-01"
    }


def test_bad_dimensions_and_periods_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as raised:
        ledger.costs.spend.daily(["colour"])
    assert raised.value.problems[0].where == "by"
    with pytest.raises(ValidationError) as raised:
        ledger.costs.spend.forecast(month=date(2026, 6, 3))
    assert raised.value.problems[0].where == "month"
    with pytest.raises(ValidationError):
        ledger.costs.spend.anomalies(threshold=Decimal(0))


def test_daily_spend_adds_up_to_the_cost_report(demo: Path) -> None:
    # Each day of March 2026, every initiative: the days add up to the month's metered cost
    # (the cost report without its manual costs) to the ledger's last places; the OpenAI
    # invoice, a line for the whole month, is spread evenly over its 31 days.
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        march, april = date(2026, 3, 1), date(2026, 4, 1)
        daily = ledger.costs.spend.daily(["initiative"], march, april)
        rows = ledger.costs.cost_report(["initiative", "basis"], march, april)
        metered: dict[str | None, Decimal] = {}
        for row in rows:
            if row.basis != "manual":
                metered[row.initiative] = metered.get(row.initiative, Decimal(0)) + row.cost
        summed: dict[str | None, Decimal] = {}
        for day in daily:
            summed[day.initiative] = summed.get(day.initiative, Decimal(0)) + day.cost
        assert summed.keys() == {k for k, v in metered.items() if v}
        for name, cost in summed.items():
            assert abs(cost - metered[name]) < Decimal("1e-7"), name
        openai = ledger.costs.spend.daily(["provider"], march, april)
        invoice = [d.cost for d in openai if d.provider == "OpenAI"]
        assert len(invoice) == 31 and max(invoice) - min(invoice) < Decimal("1e-8")


def test_a_month_that_has_ended_forecasts_its_cost_and_its_plan(demo: Path) -> None:
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        june = ledger.costs.spend.forecast(["initiative"], date(2026, 6, 1), as_of=date(2026, 7, 2))
        report = {
            r.initiative: r.cost
            for r in ledger.costs.cost_report(["initiative"], JUNE, date(2026, 7, 1))
        }
        for line in june.lines:
            assert abs(line.forecast - report[line.initiative]) < Decimal("1e-7")
            assert line.low == line.high == line.forecast
        # loc-qa's business case invests 38,000 a month (demo.py); it started before June.
        loc_qa = next(line for line in june.lines if line.initiative == "loc-qa")
        assert (loc_qa.planned, loc_qa.status) == (Decimal(38000), "within_plan")


def _bot(ledger: Ledger, clock: SteppingClock, tmp_path: Path, february: int) -> None:
    """An initiative whose business case invests 1,000 a month from December 2025 (it entered
    poc then), with 800 and 1,000 of manual costs in December and January and ``february``
    entered for February."""
    case = {
        "currency": "USD",
        "monthly_investment": 1000,
        "monthly_value_at_full_adoption": 3000,
        "adoption_ramp": {"ceiling": 1, "midpoint_month": 2, "steepness": 1},
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
    bot = {
        "metrics": [metric],
        "id": "bot",
        "name": "Ticket bot",
        "kind": "agent",
        "business_unit": "service",
        "owner": "Olga",
        "risk_tier": "minimal",
        "business_case": case,
    }
    ledger.portfolio.apply(Portfolio.model_validate({"initiatives": [bot]}))
    clock.now = datetime(2025, 12, 15, 9, 0)
    ledger.governance.gates.advance("bot", "poc")
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2025-12-01,2026-01-01,development,800,USD,bot,,\n"
        "2026-01-01,2026-02-01,development,1000,USD,bot,,\n"
        f"2026-02-01,2026-03-01,development,{february},USD,bot,,\n"
    )
    ledger.costs.ingest_costs(costs)


@pytest.mark.parametrize(
    ("february", "status"),
    [(900, "within_plan"), (1100, "planned_overrun"), (1300, "over_plan")],
)
def test_an_overrun_the_plan_expected_is_planned(
    ledger: Ledger, clock: SteppingClock, tmp_path: Path, february: int, status: str
) -> None:
    # February is month 3: 1,000 planned in it, 2,000 before it, against 1,800 spent before.
    # 900 is within the month's plan; 1,100 is over it, but 1,800 + 1,100 = 2,900 stays within
    # the 3,000 the plan invests by the end of February: planned; 1,300 makes 3,100: not.
    _bot(ledger, clock, tmp_path, february)
    forecast = ledger.costs.spend.forecast(
        ["initiative"], date(2026, 2, 1), as_of=date(2026, 2, 10)
    )
    (line,) = forecast.lines
    assert (line.initiative, line.manual, line.forecast) == ("bot", february, february)
    assert (line.planned, line.status) == (Decimal(1000), status)
    findings = ledger.costs.spend.findings(today=date(2026, 2, 10))
    overruns = [(f.key, f.planned, f.figures["planned"]) for f in findings]
    if status == "within_plan":
        assert overruns == []
    else:
        key = f"forecast_overrun:initiative=bot:2026-02:{status}"
        assert overruns == [(key, status == "planned_overrun", Decimal(1000))]

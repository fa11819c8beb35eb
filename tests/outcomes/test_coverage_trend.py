"""The coverage trend: each month's attribution coverage is the portfolio report's for that
month, on a small portfolio worked out by hand and on the demo."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.model.portfolio import Portfolio
from valuegap.months import next_month
from valuegap.outcomes.periods import Window, parse_period

from ..conftest import SteppingClock


@pytest.fixture
def clock() -> SteppingClock:
    # The portfolio and its agreed method are recorded before the first month measured.
    return SteppingClock(datetime(2025, 12, 1, 9, 0))


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.fixture
def three_months(ledger: Ledger, tmp_path: Path) -> Ledger:
    ledger.portfolio.apply(
        Portfolio.model_validate(
            {
                "initiatives": [
                    {
                        "id": "tickets",
                        "name": "Ticket agent",
                        "kind": "agent",
                        "business_unit": "service",
                        "metrics": [
                            {
                                "id": "resolved",
                                "name": "resolved",
                                "unit": "tickets",
                                "direction": "increase",
                                "method": "direct",
                                "value_per_unit": 10,
                                "currency": "USD",
                                "agreed_by": "finn",
                                "agreed_at": "2025-12-01",
                            }
                        ],
                    },
                    {
                        "id": "upsell",
                        "name": "Upsell",
                        "kind": "use_case",
                        "business_unit": "sales",
                    },
                ]
            }
        )
    )
    ledger.costs.ingest_costs(
        _write(
            tmp_path / "costs.csv",
            """
period_start,period_end,category,amount,currency,initiative,business_unit,description
2026-01-01,2026-02-01,development,300,USD,tickets,,agent team
2026-01-01,2026-02-01,development,200,USD,upsell,,prompt team
2026-01-01,2026-02-01,operations,500,USD,,platform,shared platform
2026-02-01,2026-03-01,development,400,USD,tickets,,agent team
2026-02-01,2026-03-01,operations,100,USD,,platform,shared platform
2026-03-01,2026-04-01,development,250,USD,tickets,,agent team
2026-03-01,2026-04-01,operations,250,USD,,platform,shared platform
""",
        )
    )
    # Tickets resolved, from a system of record, in January and March: none in February.
    ledger.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "outcomes.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-01-01,2026-02-01,40,Ticketing system
tickets,resolved,2026-03-01,2026-04-01,10,Ticketing system
""",
        ),
    )
    return ledger


def test_coverage_by_month_worked_out_by_hand(three_months: Ledger) -> None:
    trend = three_months.outcomes.coverage_trend()
    # January: tickets validated, 300 of 300 + 200 + the platform's 500 = 0.3.
    # February: no outcome counted, so nothing validated: 0 of 400 + 100 = 0.
    # March: validated again, 250 of 250 + 250 = 0.5.
    assert [(m.month, m.attribution_coverage) for m in trend.months] == [
        ("2026-01", 0.3),
        ("2026-02", 0.0),
        ("2026-03", 0.5),
    ]
    assert [m.total_cost for m in trend.months] == [Decimal(1000), Decimal(500), Decimal(500)]
    assert [m.validated_cost for m in trend.months] == [Decimal(300), Decimal(0), Decimal(250)]
    assert (trend.first_coverage, trend.latest_coverage, trend.coverage_change) == (0.3, 0.5, 0.2)
    for month in trend.months:
        start = date.fromisoformat(f"{month.month}-01")
        report = three_months.outcomes.portfolio_report(Window(start, next_month(start)))
        assert report.attribution_coverage == month.attribution_coverage


def test_a_window_names_its_months_even_those_without_cost(three_months: Ledger) -> None:
    trend = three_months.outcomes.coverage_trend(Window(date(2026, 2, 1), date(2026, 5, 1)))
    assert [(m.month, m.attribution_coverage) for m in trend.months] == [
        ("2026-02", 0.0),
        ("2026-03", 0.5),
        ("2026-04", None),  # no cost: nothing to divide by
    ]
    assert trend.latest_coverage == 0.5 and trend.coverage_change == 0.5


def test_an_empty_ledger_has_no_months(ledger: Ledger) -> None:
    trend = ledger.outcomes.coverage_trend()
    assert trend.months == [] and trend.coverage_change is None


def test_each_month_of_the_demo_is_its_portfolio_reports_coverage(demo: Path) -> None:
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        trend = ledger.outcomes.coverage_trend(parse_period("2025"))
        assert len(trend.months) == 12
        for month in trend.months:
            start = date.fromisoformat(f"{month.month}-01")
            report = ledger.outcomes.portfolio_report(Window(start, next_month(start)))
            assert month.attribution_coverage == report.attribution_coverage
            assert month.total_cost == report.total_cost
            assert month.validated_cost == report.validated_cost

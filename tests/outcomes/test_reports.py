"""Outcome ingest and the value reports, on a small portfolio worked out by hand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError
from valuegap.model.portfolio import Portfolio
from valuegap.outcomes.periods import parse_period
from valuegap.outcomes.reports import ACTIVITY_NOTE
from valuegap.results import to_data

from ..conftest import SteppingClock

JANUARY = parse_period("2026-01")


def _portfolio(agreed: str = "2025-12-01") -> Portfolio:
    def metric(id: str, method: str, unit: str, **extra: object) -> dict[str, object]:
        return {"id": id, "name": id, "unit": unit, "direction": "increase", "method": method,
                "value_per_unit": 10, "currency": "USD", "agreed_by": "finn",
                "agreed_at": agreed, **extra}  # fmt: skip

    return Portfolio.model_validate({"initiatives": [
        {"id": "tickets", "name": "Ticket agent", "kind": "agent", "business_unit": "service",
         "metrics": [metric("resolved", "direct", "tickets")]},
        {"id": "upsell", "name": "Upsell prompts", "kind": "use_case", "business_unit": "sales",
         "metrics": [metric("basket", "ab_test", "USD per order", volume_basis="order")]},
    ]})  # fmt: skip


@pytest.fixture
def clock() -> SteppingClock:
    # The portfolio, its agreements with it, is applied on 1 December 2025: before January.
    return SteppingClock(datetime(2025, 12, 1, 9, 0))


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.fixture
def measured(ledger: Ledger, tmp_path: Path) -> Ledger:
    ledger.portfolio.apply(_portfolio())
    ledger.costs.ingest_costs(
        _write(
            tmp_path / "costs.csv",
            """
period_start,period_end,category,amount,currency,initiative,business_unit,description
2026-01-01,2026-02-01,development,300,USD,tickets,,agent team
2026-01-01,2026-02-01,development,200,USD,upsell,,prompt team
2026-01-01,2026-02-01,operations,500,USD,,platform,shared platform not allocated
""",
        )
    )
    ledger.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "outcomes.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-01-01,2026-02-01,40,Ticketing system
""",
        ),
    )
    # Treatment 10.2 (sd 4, n 50) against control 10.0 (sd 4, n 50): the interval includes 0.
    ledger.outcomes.ingest_measures(
        "observations",
        _write(
            tmp_path / "obs.csv",
            """
metric,period_start,period_end,group,phase,n,mean,sd,volume
basket,2026-01-01,2026-02-01,treatment,after,50,10.2,4,1000
basket,2026-01-01,2026-02-01,control,after,50,10.0,4,
""",
        ),
    )
    return ledger


def test_coverage_of_a_small_portfolio_by_hand(measured: Ledger) -> None:
    report = measured.outcomes.portfolio_report(JANUARY)
    # All AI cost in January: 300 + 200 + 500 of the platform unit's own = 1,000; none is
    # unallocated. Only "tickets" has a validated outcome (40 tickets from a system of record,
    # method agreed in advance), so coverage = 300 / 1,000 = 0.3.
    assert report.total_cost == Decimal("1000.00")
    assert report.unallocated_cost == Decimal("0.00")
    assert report.unit_overhead_cost == Decimal("500.00")
    assert report.validated_cost == Decimal("300.00")
    assert report.attribution_coverage == 0.3
    rows = {r.id: r for r in report.initiatives}
    # tickets: value 40 x 10 = 400; ROI (400 - 300) / 300 = 0.3333
    assert rows["tickets"].value == Decimal("400.00")
    assert rows["tickets"].roi == 0.3333
    assert rows["tickets"].cost_per_outcome == Decimal("7.50")  # 300 / 40
    assert rows["tickets"].state == "validated"
    # upsell: effect 0.2 USD per order x 1,000 orders x 10 = 2,000 USD, not validated
    assert rows["upsell"].value == Decimal("2000.00")
    assert rows["upsell"].validated is False
    assert "includes zero" in rows["upsell"].validation_reason
    units = {u.business_unit: u for u in report.business_units}
    assert units["service"].attribution_coverage == 1.0
    assert units["sales"].attribution_coverage == 0.0


def test_the_reports_json_form(measured: Ledger) -> None:
    portfolio = to_data(measured.outcomes.portfolio_report(JANUARY))
    assert isinstance(portfolio, dict)
    # the figures worked out above: money as exact decimal strings, ratios as numbers
    assert portfolio["period"] == {"from": "2026-01-01", "to": "2026-02-01"}
    assert (portfolio["total_cost"], portfolio["validated_cost"]) == ("1000", "300")
    assert portfolio["attribution_coverage"] == 0.3
    # December, the window before, had no cost: no coverage to compare with, and so no change
    assert (portfolio["previous_attribution_coverage"], portfolio["coverage_change"]) == (
        None,
        None,
    )
    everything = to_data(measured.outcomes.portfolio_report())
    assert isinstance(everything, dict)
    assert everything["period"] == {"from": None, "to": None}
    board = to_data(measured.outcomes.scoreboard(JANUARY))
    assert isinstance(board, dict)
    assert board["previous_period"] == {"from": "2025-12-01", "to": "2026-01-01"}
    assert board["overall"] == {
        "business_unit": "(all)",
        "attribution_coverage": 0.3,
        "previous_attribution_coverage": None,
        "coverage_change": None,
        "laggards_retired": [],
        "cost_per_outcome": "7.5",  # 300 of the ticket agent's cost / 40 tickets
        "previous_cost_per_outcome": None,
        "cost_per_outcome_falling": None,
    }
    assert board["context"] == {
        "note": ACTIVITY_NOTE,
        "requests": 0,
        "tokens": 0,
        "active_users": None,
    }


def test_a_credit_larger_than_the_unallocated_cost_keeps_coverage_within_one(
    measured: Ledger, tmp_path: Path
) -> None:
    credit = _write(tmp_path / "credit.csv", """
BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory
acct,USD,2026-01-01,2026-01-01,2026-02-01,Credit,-900,-900,AWS,Amazon EC2,Compute
""")  # fmt: skip
    measured.costs.ingest_focus([credit])
    report = measured.outcomes.portfolio_report(JANUARY)
    # Net, the ledger holds 300 + 200 + 500 - 900 = 100 (300 / 100 would be coverage 3.0).
    # The untagged credit is unallocated, -900, and counts as zero in coverage:
    # 300 validated / (300 + 200 + 500 + 0) = 0.3.
    assert (report.total_cost, report.unallocated_cost) == (100, -900)
    assert report.attribution_coverage == 0.3


def test_a_method_agreed_after_measuring_began_is_never_validated(
    ledger: Ledger, tmp_path: Path, clock: SteppingClock
) -> None:
    clock.now = datetime(2026, 1, 15, 9, 0)
    ledger.portfolio.apply(_portfolio(agreed="2026-01-15"))
    ledger.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "outcomes.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-01-01,2026-02-01,40,Ticketing system
""",
        ),
    )
    report = ledger.outcomes.initiative_report("tickets", JANUARY)
    metric = report.metrics[0]
    assert metric.validated is False
    assert metric.validation_reason == (
        "2026-01-01 to 2026-02-01: the method's agreement was recorded on 2026-01-15, once the "
        "measurement period had begun on 2026-01-01: it was not agreed in advance"
    )
    # the next period began after the agreement: that one counts
    ledger.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "feb.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-02-01,2026-03-01,55,Ticketing system
""",
        ),
    )
    assert ledger.outcomes.initiative_report("tickets", parse_period("2026-02")).validated is True


def test_the_initiative_report_has_every_metric_field(measured: Ledger) -> None:
    report = measured.outcomes.initiative_report("upsell", JANUARY)
    data = to_data(report.metrics[0])
    assert isinstance(data, dict)
    for name in ("method", "effect", "effect_low", "effect_high", "std_error", "value",
                 "value_low", "value_high", "validated", "validation_reason"):  # fmt: skip
        assert name in data
    # Welch: se = sqrt(16/50 + 16/50) = 0.8; effect 0.2
    metric = report.metrics[0]
    assert metric.std_error == pytest.approx(0.8)
    assert metric.effect == pytest.approx(0.2)
    assert metric.effect_low is not None and metric.effect_high is not None
    assert metric.effect_low < 0 < metric.effect_high
    assert data["value"] == "2000"  # 0.2 USD per order x 1,000 orders x 10


def test_ingesting_the_same_measures_twice_changes_nothing(
    measured: Ledger, tmp_path: Path
) -> None:
    before = measured.outcomes.portfolio_report(JANUARY)
    again = measured.outcomes.ingest_measures("observations", tmp_path / "obs.csv")
    assert again.rows_added == 0
    assert measured.outcomes.portfolio_report(JANUARY) == before


def test_malformed_observations_are_refused_whole(measured: Ledger, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        """
metric,period_start,period_end,group,phase,n,mean,sd
basket,2026-02-01,2026-03-01,treatment,after,-5,10.2,4
basket,2026-02-01,2026-03-01,control,after,,10.0,4
nosuch,2026-02-01,2026-03-01,all,after,10,1,1
basket,2026-02-01,2026-03-01,placebo,after,10,1,1
""",
    )
    with pytest.raises(IngestError) as refused:
        measured.outcomes.ingest_measures("observations", path)
    found = [str(p) for p in refused.value.problems]
    assert any(f"{path}, row 1, column 'n': is not a count" in p and "'-5'" in p
               for p in found)  # fmt: skip
    assert any("row 2, column 'sd': is given without n" in p and "'4'" in p for p in found)
    assert any("row 3, column 'metric': is not a metric in this ledger (found 'nosuch')" in p
               for p in found)  # fmt: skip
    assert any("row 4, column 'group': must be one of treatment, control, all (found "
               "'placebo')" in p for p in found)  # fmt: skip
    # nothing from the file is stored
    assert measured.session.db.one("SELECT count(*) FROM observations") == (2,)


def test_a_key_given_twice_in_one_file_names_the_second_row(
    measured: Ledger, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "twice.csv",
        """
initiative,period_start,period_end,decisions,accepted,overridden,escalated
tickets,2026-01-01,2026-02-01,100,90,8,2
tickets,2026-02-01,2026-03-01,100,90,8,2
tickets,2026-01-01,2026-02-01,100,80,18,2
""",
    )
    with pytest.raises(IngestError, match="row 3, column 'initiative,period_start,period_end'"):
        measured.outcomes.ingest_measures("behaviour", path)


def test_a_units_coverage_counts_the_units_own_cost(ledger: Ledger, tmp_path: Path) -> None:
    ledger.portfolio.apply(_portfolio())
    # 300 of the ticket agent's cost is charged to another unit, "platform"
    ledger.costs.ingest_costs(
        _write(
            tmp_path / "costs.csv",
            """
period_start,period_end,category,amount,currency,initiative,business_unit,description
2026-01-01,2026-02-01,development,100,USD,tickets,,agent team
2026-01-01,2026-02-01,operations,300,USD,tickets,platform,shared hosting
2026-01-01,2026-02-01,operations,600,USD,,platform,platform team
""",
        )
    )
    ledger.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "outcomes.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-01-01,2026-02-01,40,Ticketing system
""",
        ),
    )
    units = {u.business_unit: u for u in ledger.outcomes.portfolio_report(JANUARY).business_units}
    # service: 100 of 100 validated; platform: 300 of 900 (the agent's share of it)
    assert units["service"].attribution_coverage == 1.0
    assert units["platform"].attribution_coverage == 0.3333


def test_payback_counts_no_value_after_the_window(measured: Ledger, tmp_path: Path) -> None:
    # A quarter's 90 tickets (900 USD) measured from January: by the end of January only its
    # January part (31 of 90 days of a quarter spread equally by month: 300 USD) has come in.
    measured.outcomes.ingest_measures(
        "outcomes",
        _write(
            tmp_path / "q.csv",
            """
initiative,metric,period_start,period_end,count,source
tickets,resolved,2026-01-01,2026-02-01,0,Ticketing system
tickets,resolved,2026-01-01,2026-04-01,90,Ticketing system
""",
        ),
    )
    report = measured.outcomes.initiative_report("tickets", JANUARY)
    assert report.cumulative_value == Decimal("300.00")
    assert report.cumulative_cost == Decimal("300.00")
    assert report.payback_month == "2026-01"


def test_only_captured_hours_are_value(ledger: Ledger, tmp_path: Path) -> None:
    ledger.portfolio.apply(Portfolio.model_validate({"initiatives": [
        {"id": "triage", "name": "Triage", "kind": "workflow", "business_unit": "ops",
         "metrics": [{"id": "review", "name": "Review hours", "unit": "hours/week",
                      "direction": "decrease", "method": "before_after", "value_per_unit": 50,
                      "currency": "USD", "agreed_by": "finn", "agreed_at": "2025-12-01"}]},
    ]}))  # fmt: skip
    ledger.outcomes.ingest_measures(
        "observations",
        _write(
            tmp_path / "obs.csv",
            """
metric,period_start,period_end,group,phase,n,mean,sd,volume
review,2025-10-01,2026-01-01,all,before,12,40,4,
review,2026-01-01,2026-04-01,all,after,13,8,2,13
""",
        ),
    )
    capacity = _write(
        tmp_path / "capacity.csv",
        """
initiative,metric,period_start,period_end,redeployed,cost_reduced,not_captured
triage,review,2026-01-01,2026-04-01,200,100,116
""",
    )
    ledger.outcomes.ingest_measures("capacity", capacity)
    metric = ledger.outcomes.initiative_report("triage", parse_period("2026-Q1")).metrics[0]
    # 32 hours a week x 13 weeks x 50 USD = 20,800, of which 300 of 416 hours were captured:
    # 20,800 x 300 / 416 = 15,000
    assert metric.value == Decimal("15000.00")
    assert metric.captured_share == 0.7212


@pytest.mark.parametrize(
    ("row", "column", "said"),
    [
        ("resolved,2026-01-01,2026-02-01,all,after,10.5,3,1", "n", "is not a count"),
        ("resolved,2026-01-01,2026-02-01,all,after,10,nan,1", "mean", "is not a finite number"),
        ("resolved,2026-01-01,2026-02-01,all,after,10,3,Infinity", "sd", "is not a finite number"),
        ("resolved,2026-01-01,2026-02-01,all,after,10,-inf,1", "mean", "is not a finite number"),
    ],
)
def test_observations_that_are_not_measurements_are_refused(
    measured: Ledger, tmp_path: Path, row: str, column: str, said: str
) -> None:
    path = _write(tmp_path / "bad.csv", "metric,period_start,period_end,group,phase,n,mean,sd\n"
                  + row)  # fmt: skip
    with pytest.raises(IngestError) as refused:
        measured.outcomes.ingest_measures("observations", path)
    named = [p for p in refused.value.problems if p.where.endswith(f"row 1, column {column!r}")]
    assert said in named[0].message


def test_a_negative_outcome_count_is_refused(measured: Ledger, tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", "initiative,metric,period_start,period_end,count,source\n"
                  "tickets,resolved,2026-01-01,2026-02-01,-40,Ticketing system")  # fmt: skip
    with pytest.raises(IngestError) as refused:
        measured.outcomes.ingest_measures("outcomes", path)
    assert "is not a count: a whole number, zero or more (found '-40')" in str(refused.value)
    report = measured.outcomes.initiative_report("tickets", JANUARY)
    assert report.outcomes.successful_outcomes == 40  # the stored count stands

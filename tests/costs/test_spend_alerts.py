"""Forecast overruns and spend anomalies raise alerts (``ledger.costs.alerts.check``), each
once: a spike is one alert however often it is checked or its usage ingested, delivered once
to a webhook whose first try fails; a plateau is one alert; a budget forecast above its amount
is one; an overrun the business case's J-curve expected says it is planned."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SteppingClock
from tests.costs.conftest import Receiver, hooked
from tests.costs.test_spend import JUNE, _bot, _days, _usage
from valuegap import Ledger
from valuegap.costs.findings import anomaly_findings, forecast_findings
from valuegap.costs.spend_alerts import finding_alert
from valuegap.costs.spend_results import Anomaly, AnomalyReport, ForecastLine, SpendForecast
from valuegap.forecast.spend import PlanStatus
from valuegap.web.alert_check import AlertChecker


def _checked(ledger: Ledger, *days: date) -> list[tuple[str, str, str, str]]:
    """The alerts new at each check, as (kind, subject, period, level)."""
    return [
        (a.kind, a.subject, a.period, a.level)
        for day in days
        for a in ledger.costs.alerts.check(day)
    ]


def test_a_spike_is_one_alert_delivered_once(receiver: Receiver, tmp_path: Path) -> None:
    # gpt-4o costs 100 a day from 4 May, 500 on Tuesday 9 June. The four Tuesdays before cost
    # 100: the median is 100, the MAD 0, so the scale is 5 % of 100 = 5 and the spike scores
    # (500 - 100) / 5 = 80, above 3.5. The check of 10 June looks at 3 to 9 June: the spike.
    days = _days(date(2026, 5, 4), date(2026, 6, 12))
    spend = {(d, "gpt-4o"): Decimal(500 if d == date(2026, 6, 9) else 100) for d in days}
    usage = _usage(tmp_path / "usage.csv", spend)
    settings = hooked(receiver)
    with Ledger.init(
        tmp_path / "l.duckdb", actor="alice", settings=settings, clock=SteppingClock()
    ) as ledger:
        ledger.costs.ingest_usage(usage, "litellm")
        [alert] = ledger.costs.alerts.check(date(2026, 6, 10))
        assert (alert.kind, alert.subject, alert.period, alert.level) == (
            "spend_anomaly",
            "initiative=(unallocated)",
            "2026-06-09",
            "up",
        )
        assert (alert.value, alert.reference, alert.currency) == (500, 100, "USD")
        assert alert.details["line_1"].startswith("initiative=(unallocated), business_unit=")
        assert "model=gpt-4o: 500 against 100" in alert.details["line_1"]
        # Checked again the next days (the spike is still in the week looked at), and after
        # the same usage is ingested again: nothing new.
        assert _checked(ledger, date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 12)) == []
        assert ledger.costs.ingest_usage(usage, "litellm").rows_added == 0
        assert _checked(ledger, date(2026, 6, 12)) == []
        assert ledger.costs.alerts.deliver() == []  # nothing pending
        [delivered] = ledger.costs.alerts.alerts(kind="spend_anomaly")
    assert [d.state for d in delivered.deliveries] == ["delivered"] * 3
    # The receiver refused each webhook's first POST, took the second, and nothing after.
    assert [a["subject"] for a in receiver.taken["/generic"]] == ["initiative=(unallocated)"]
    assert receiver.tried["/generic"] == 2
    [text] = [b["text"] for b in receiver.taken["/services/T0/B0/secret"]]
    assert text.startswith("valuegap spend anomaly: initiative=(unallocated): 2026-06-09 cost")


def test_a_plateau_is_one_alert(ledger: Ledger, tmp_path: Path) -> None:
    # 10 a day, then 30 a day from Monday 1 June: flagged from 1 June until it has settled
    # (tests/costs/test_spend.py), one run named by its first day: one alert, checked daily.
    days = _days(date(2026, 5, 4), date(2026, 6, 20))
    spend = {(d, "gpt-4o-mini"): Decimal(30 if d >= JUNE else 10) for d in days}
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    checked = _checked(ledger, *_days(date(2026, 6, 2), date(2026, 6, 21)))
    assert checked == [("spend_anomaly", "initiative=(unallocated)", "2026-06-01", "up")]


def test_a_budget_forecast_above_its_amount_is_one_alert(ledger: Ledger, tmp_path: Path) -> None:
    # 1-10 June 2026: 100 a weekday, 20 a weekend day: 840 spent; 14 weekdays and 6 weekend
    # days left: 14 x 100 + 6 x 20 = 1,520; forecast 2,360, above the budget of 2,000 (and
    # 840 is below its 80 %, 1,600: no threshold alert).
    spend = {
        (d, "gpt-4o"): Decimal(20 if d.weekday() >= 5 else 100)
        for d in _days(JUNE, date(2026, 6, 11))
    }
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    ledger.costs.budgets.set_budget("openai", "provider", "openai", Decimal(2000))
    # The status of 10 June is as of its end: the days up to 10 June have ended.
    [status] = ledger.costs.budgets.budget_status("openai", on=date(2026, 6, 10))
    assert (status.spent, status.forecast) == (840, 2360)
    assert status.forecast_low == status.forecast_high == 2360  # constant rates: width 0
    assert ledger.costs.alerts.alerts() == []
    [alert] = ledger.costs.alerts.check(date(2026, 6, 11))
    assert (alert.kind, alert.subject, alert.period, alert.level) == (
        "forecast_overrun",
        "budget:openai",
        "2026-06",
        "forecast",
    )
    assert (alert.value, alert.reference) == (2360, 2000)
    assert "forecast at 2,360.00 USD" in alert.message
    assert _checked(ledger, date(2026, 6, 11), date(2026, 6, 12)) == []


@pytest.mark.parametrize(
    ("february", "level", "said"),
    [
        (1100, "planned_overrun", "as the business case's J-curve expected"),
        (1300, "over_plan", "which it did not plan"),
    ],
)
def test_an_overrun_says_whether_the_plan_expected_it(
    ledger: Ledger, clock: SteppingClock, tmp_path: Path, february: int, level: str, said: str
) -> None:
    # tests/costs/test_spend.py: 1,100 in February stays within what the plan invests by its
    # end (1,800 + 1,100 <= 3,000): planned; 1,300 does not (3,100): over plan. The budget that
    # follows the business case says nothing more: the case's finding says whether it is planned.
    _bot(ledger, clock, tmp_path, february)
    checked = [a for a in ledger.costs.alerts.check(date(2026, 2, 10))]
    [alert] = [a for a in checked if a.kind == "forecast_overrun"]
    assert (alert.subject, alert.period, alert.level) == ("initiative=bot", "2026-02", level)
    assert (alert.value, alert.reference) == (february, 1000)
    assert said in alert.message
    assert alert.details["planned"] == ("yes" if level == "planned_overrun" else "no")
    # Its identity is the finding's key: the same overrun found again raises nothing.
    [finding] = ledger.costs.spend.findings(date(2026, 2, 10))
    raised = finding_alert(finding)
    assert ":".join((raised.kind, raised.subject, raised.period, raised.level)) == finding.key
    assert _checked(ledger, date(2026, 2, 10), date(2026, 2, 11)) == []


def test_the_server_checks_on_its_own(ledger: Ledger, clock: SteppingClock, tmp_path: Path) -> None:
    days = _days(date(2026, 5, 4), date(2026, 6, 12))
    spend = {(d, "gpt-4o"): Decimal(500 if d == date(2026, 6, 9) else 100) for d in days}
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    clock.now = datetime(2026, 6, 10, 9, 0)
    checker = AlertChecker(ledger, first=0.0, interval=3600.0)
    checker.start()
    deadline = time.monotonic() + 30
    while not ledger.costs.alerts.alerts() and time.monotonic() < deadline:
        time.sleep(0.05)
    checker.stop()
    assert [a.kind for a in ledger.costs.alerts.alerts()] == ["spend_anomaly"]


def _line(initiative: str, status: PlanStatus) -> ForecastLine:
    return ForecastLine(
        initiative=initiative,
        spent=Decimal(1),
        manual=Decimal(0),
        forecast=Decimal(2),
        low=None,
        high=None,
        weekday_rate=Decimal(1),
        weekend_rate=Decimal(0),
        planned=Decimal(1),
        status=status,
        currency="USD",
    )


def _anomaly(initiative: str, since: date) -> Anomaly:
    return Anomaly(
        initiative=initiative,
        day=since,
        cost=Decimal(3),
        expected=Decimal(1),
        scale=Decimal(1),
        score=Decimal(2),
        direction="up",
        since=since,
        lines=[],
        currency="USD",
    )


NAMES = st.sampled_from(["a", "b", "loc-qa"])
STATUSES: list[PlanStatus] = ["within_plan", "planned_overrun", "over_plan"]


@given(
    forecasts=st.lists(
        st.tuples(NAMES, st.sampled_from([JUNE, date(2026, 7, 1)]), st.sampled_from(STATUSES))
    ),
    anomalies=st.lists(st.tuples(NAMES, st.sampled_from(_days(JUNE, date(2026, 6, 4))))),
)
def test_alerts_are_the_same_exactly_when_their_findings_are(
    forecasts: list[tuple[str, date, PlanStatus]], anomalies: list[tuple[str, date]]
) -> None:
    # However often each is found, the alerts raised (one per kind, subject, period and
    # level) are as many as the distinct findings: once each.
    found = []
    for name, month, status in forecasts:
        line = _line(name, status)
        report = SpendForecast(["initiative"], month, month, month, 0, "USD", [line], line)
        found += forecast_findings(report)
    for name, since in anomalies:
        flagged = [_anomaly(name, since)]
        found += anomaly_findings(
            AnomalyReport(["initiative"], JUNE, JUNE, 4, Decimal("3.5"), "USD", flagged)
        )
    identities = {(a.kind, a.subject, a.period, a.level) for a in map(finding_alert, found)}
    assert len(identities) == len({f.key for f in found})


def _june_with_a_spike_on_the_30th(ledger: Ledger, tmp_path: Path) -> None:
    """June 2026 (it starts on a Monday): 100 a weekday, 20 a weekend day, 500 on Tuesday 30
    June; 22 weekdays and 8 weekend days: 21 x 100 + 500 + 8 x 20 = 2,760. A budget of 3,000."""
    spend = {
        (d, "gpt-4o"): Decimal(500 if d.day == 30 else 20 if d.weekday() >= 5 else 100)
        for d in _days(JUNE, date(2026, 7, 1))
    }
    ledger.costs.ingest_usage(_usage(tmp_path / "usage.csv", spend), "litellm")
    ledger.costs.budgets.set_budget("openai", "provider", "openai", Decimal(3000))


def test_a_budget_on_its_periods_last_day_is_forecast_at_what_it_cost(
    ledger: Ledger, tmp_path: Path
) -> None:
    # As of the end of 30 June the month is over: its forecast is its spend, 2,760, with no
    # spread (not 29 days and one more at the weekday rate: 2,260 + 100 = 2,360).
    _june_with_a_spike_on_the_30th(ledger, tmp_path)
    [status] = ledger.costs.budgets.budget_status("openai", on=date(2026, 6, 30))
    assert status.spent == status.forecast == status.forecast_low == status.forecast_high == 2760
    [later] = ledger.costs.budgets.budget_status("openai", on=date(2026, 7, 1))
    assert later.period == "2026-07"


def test_a_budgets_forecast_of_a_past_day_is_never_below_its_spend(
    ledger: Ledger, tmp_path: Path
) -> None:
    # As of the end of 15 June: 11 weekdays and 4 weekend days spent 1,100 + 80 = 1,180 (the
    # days after it, recorded since, are not yet spent then); the 11 weekdays and 4 weekend
    # days left are forecast at 100 and 20: 1,180 + 1,100 + 80 = 2,360.
    _june_with_a_spike_on_the_30th(ledger, tmp_path)
    [status] = ledger.costs.budgets.budget_status("openai", on=date(2026, 6, 15))
    assert (status.spent, status.forecast) == (1180, 2360)
    assert status.forecast_low == status.forecast_high == 2360

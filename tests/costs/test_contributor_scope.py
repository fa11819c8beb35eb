"""A contributor sees their business units' cost only, as the portfolio report counts it: the
cost booked to their units and that of their units' initiatives wherever it is booked. So
does every report of cost made of it: the cost report, daily spend, forecasts, anomalies,
budgets and alerts. Everyone else sees the whole organisation's.

On the demo, ana.costa is a contributor in marketing (its one initiative: loc-qa); the other
units' initiatives have cost, budgets and alerts of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from valuegap import Ledger
from valuegap.costs.cost_report import CostLine
from valuegap.errors import NotFound

UNIT = "marketing"


@pytest.fixture(scope="module")
def whole(demo: Path) -> Iterator[Ledger]:
    with Ledger.open(demo, actor="you") as ledger:
        yield ledger


@pytest.fixture(scope="module")
def ana(whole: Ledger) -> Ledger:
    return whole.acting_as("ana.costa")


@pytest.fixture(scope="module")
def theirs(whole: Ledger) -> set[str]:
    return {i.id for i in whole.portfolio.initiatives(unit=UNIT)}


def _seen(line: CostLine, initiatives: set[str]) -> bool:
    return line.business_unit == UNIT or line.initiative in initiatives


def _total(lines: list[CostLine]) -> Decimal:
    return sum((line.cost for line in lines), Decimal(0))


def test_a_contributors_cost_report_holds_their_units_lines_only(
    whole: Ledger, ana: Ledger, theirs: set[str]
) -> None:
    by = ["initiative", "business_unit", "month"]
    everything = whole.costs.cost_report(by)
    expected = [line for line in everything if _seen(line, theirs)]
    assert theirs == {"loc-qa"} and len(expected) < len(everything)
    assert ana.costs.cost_report(by) == expected
    # any grain sums the same part of the cost: here by provider and by nothing
    assert _total(ana.costs.cost_report(["provider"])) == _total(expected)
    assert _total(ana.costs.cost_report([])) == _total(expected)
    # ... which is the spend the contributor's portfolio report counts (to the cent)
    assert ana.outcomes.portfolio_report().total_cost == round(_total(expected), 2)
    # a window is a window of that part
    window = (date(2025, 7, 1), date(2025, 10, 1))
    in_window = [line for line in everything if "2025-07" <= (line.month or "") <= "2025-09"]
    seen = [line for line in in_window if _seen(line, theirs)]
    assert _total(ana.costs.cost_report(["initiative"], *window)) == _total(seen)


def test_the_whole_organisations_report_is_unchanged_for_everyone_else(whole: Ledger) -> None:
    everything = _total(whole.costs.cost_report(["business_unit"]))
    for name in ("finn.berg", "grace.okafor", "exec.board"):
        assert _total(whole.acting_as(name).costs.cost_report(["business_unit"])) == everything
    assert {line.business_unit for line in whole.costs.cost_report(["business_unit"])} > {UNIT}


def test_a_contributors_daily_spend_forecast_and_anomalies_are_of_their_units(
    whole: Ledger, ana: Ledger, theirs: set[str]
) -> None:
    start, end = date(2026, 5, 1), date(2026, 7, 1)
    by = ["initiative", "business_unit"]
    everything = whole.costs.spend.daily(by, start, end)
    expected = [d for d in everything if d.business_unit == UNIT or d.initiative in theirs]
    assert 0 < len(expected) < len(everything)
    assert ana.costs.spend.daily(by, start, end) == expected

    forecast = ana.costs.spend.forecast(["initiative"], date(2026, 6, 1), as_of=date(2026, 6, 15))
    shown = {line.initiative for line in forecast.lines}
    everyones = whole.costs.spend.forecast(
        ["initiative"], date(2026, 6, 1), as_of=date(2026, 6, 15)
    )
    assert shown <= {*theirs, None} and {line.initiative for line in everyones.lines} - shown
    in_june = [d for d in expected if forecast.start <= d.day < forecast.today]
    assert forecast.total.spent == sum((d.cost for d in in_june), Decimal(0))

    window = (date(2025, 1, 1), date(2026, 12, 31))
    anomalies = ana.costs.spend.anomalies(["initiative"], *window).anomalies
    assert {a.initiative for a in anomalies} <= {*theirs, None}
    assert {
        a.initiative for a in whole.costs.spend.anomalies(["initiative"], *window).anomalies
    } - {
        *theirs,
        None,
    }


def test_a_contributor_sees_only_their_units_budgets(
    whole: Ledger, ana: Ledger, theirs: set[str]
) -> None:
    def mine(scope: str, value: str) -> bool:
        return (scope, value) in {("business_unit", UNIT)} | {("initiative", i) for i in theirs}

    everyones = whole.costs.budgets.budgets()
    budgets = ana.costs.budgets.budgets()
    assert budgets == [b for b in everyones if mine(b.scope, b.value)]
    assert len(budgets) < len(everyones)
    on = date(2026, 6, 15)
    statuses = ana.costs.budgets.budget_status(on=on)
    assert [s.budget for s in statuses] == [b.id for b in budgets]
    assert statuses == [
        s for s in whole.costs.budgets.budget_status(on=on) if s.budget in {b.id for b in budgets}
    ]
    with pytest.raises(NotFound):
        ana.costs.budgets.budget_status("case:fraud-detection", on)


def test_a_contributor_sees_only_their_units_alerts(whole: Ledger) -> None:
    # omar.haddad: operations and customer-service, whose budgets were passed
    omar = whole.acting_as("omar.haddad")
    units = {"operations", "customer-service"}
    initiatives = {i.id for i in whole.portfolio.initiatives() if i.business_unit in units}
    budgets = {b.id for b in omar.costs.budgets.budgets()}
    assert budgets == {f"case:{i}" for i in initiatives} & {
        b.id for b in whole.costs.budgets.budgets()
    }
    subjects = {f"budget:{b}" for b in budgets} | {f"initiative={i}" for i in initiatives}
    everyones = whole.costs.alerts.alerts()
    alerts = omar.costs.alerts.alerts()
    assert alerts == [a for a in everyones if a.subject in subjects]
    assert 0 < len(alerts) < len(everyones)
    assert omar.costs.alerts.alerts(limit=3) == alerts[:3]
    assert omar.costs.alerts.alerts(subject="budget:case:fraud-detection") == []
    assert whole.acting_as("ana.costa").costs.alerts.alerts() == [
        a for a in everyones if a.subject in {"budget:case:loc-qa", "initiative=loc-qa"}
    ]


def test_what_alerts_are_raised_from_is_the_whole_organisations_whoever_asks(
    whole: Ledger, ana: Ledger
) -> None:
    # the server's hourly check runs as whoever started it, a contributor perhaps
    day = date(2026, 6, 11)
    everyones = whole.costs.spend.findings(day)
    assert len({f.subject for f in everyones}) >= 5
    assert ana.costs.spend.findings(day) == everyones
    assert ana.costs.budgets.forecast_alerts(day) == whole.costs.budgets.forecast_alerts(day)


def test_another_units_initiative_booked_to_theirs_shows_no_plan(demo_copy: Path) -> None:
    with Ledger.open(demo_copy, actor="you") as ledger:
        rules = [r.model_dump(exclude_none=True) for r in ledger.costs.allocation_rules().rules]
        for rule in rules:
            if rule["id"] == "fraud-tag":  # fraud-detection's (risk) cost, booked to marketing
                rule["business_unit"] = UNIT
        ledger.costs.apply_rules(yaml.safe_dump({"rules": rules}).encode())
        ana = ledger.acting_as("ana.costa")
        june = ana.costs.spend.forecast(["initiative"], date(2026, 6, 1), as_of=date(2026, 6, 11))
        lines = {line.initiative: line for line in june.lines}
        assert lines["fraud-detection"].spent > 0  # booked to marketing: their spend
        assert (lines["fraud-detection"].planned, lines["fraud-detection"].status) == (None, None)
        assert lines["loc-qa"].planned is not None

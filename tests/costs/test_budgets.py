"""Budgets: their spend, the thresholds that alert once per period, hard limits for agents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SteppingClock, ready
from valuegap import Ledger
from valuegap.errors import NotFound, ValidationError

HEADER = "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"


def spend(
    ledger: Ledger,
    tmp_path: Path,
    amount: str,
    note: str,
    month: str = "2026-01",
    initiative: str = "bot",
) -> int:
    """Spend ``amount`` USD on ``initiative`` in ``month`` (a manual cost, ``note`` telling it
    apart); how many rows were added."""
    path = tmp_path / f"{note}.csv"
    end = date.fromisoformat(f"{month}-01").replace(day=28)
    path.write_text(f"{HEADER}{month}-01,{end},operations,{amount},USD,{initiative},,{note}\n")
    return ledger.costs.ingest_costs(path).rows_added


def levels(ledger: Ledger) -> list[tuple[str, str, str]]:
    return sorted((a.subject, a.period, a.level) for a in ledger.costs.alerts.alerts())


@pytest.fixture
def bot(ledger: Ledger) -> Ledger:
    ledger.portfolio.add_initiative(ready("bot"))
    return ledger


def test_a_budget_of_1000_alerts_once_at_800_and_once_at_1000(
    bot: Ledger, tmp_path: Path, clock: SteppingClock
) -> None:
    bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
    # 80 % of 1,000 is 800: 799 has not reached it.
    spend(bot, tmp_path, "799", "first")
    assert levels(bot) == []
    # 799 + 2 = 801 reaches 800: one alert, at 80 %.
    spend(bot, tmp_path, "2", "second")
    assert levels(bot) == [("budget:bot", "2026-01", "80%")]
    # The same data again adds no cost, and no alert; nor does more spend below 1,000.
    assert spend(bot, tmp_path, "2", "second") == 0
    spend(bot, tmp_path, "100", "third")  # 901
    assert levels(bot) == [("budget:bot", "2026-01", "80%")]
    # 901 + 99.01 = 1,000.01 reaches 1,000: one more, at 100 %.
    spend(bot, tmp_path, "99.01", "fourth")
    assert levels(bot) == [("budget:bot", "2026-01", "100%"), ("budget:bot", "2026-01", "80%")]
    newest = bot.costs.alerts.alerts(limit=1)[0]
    assert (newest.kind, newest.value, newest.reference, newest.threshold) == (
        "budget_threshold",
        Decimal("1000.01"),
        Decimal("1000"),
        Decimal("1"),
    )
    [status] = bot.costs.budgets.budget_status("bot", on=date(2026, 1, 20))
    assert (status.spent, status.remaining, status.passed) == (
        Decimal("1000.01"),
        Decimal("-0.01"),
        [Decimal("0.8"), Decimal("1")],
    )
    # Each month is a period of its own: February's spend alerts for February, once it has
    # begun.
    clock.now = datetime(2026, 2, 2, 9, 0)
    spend(bot, tmp_path, "850", "february", month="2026-02")
    assert ("budget:bot", "2026-02", "80%") in levels(bot)


def test_a_budget_set_after_the_spend_alerts_at_once(bot: Ledger, tmp_path: Path) -> None:
    spend(bot, tmp_path, "950", "first")
    bot.costs.budgets.set_budget(
        "bot", "initiative", "bot", Decimal("1000"), thresholds=[Decimal("0.5"), Decimal("0.9")]
    )
    # 950 of 1,000 has reached 50 % (500) and 90 % (900).
    assert levels(bot) == [("budget:bot", "2026-01", "50%"), ("budget:bot", "2026-01", "90%")]
    # Setting it again (or removing it) raises nothing more: each threshold alerts once.
    bot.costs.budgets.set_budget(
        "bot", "initiative", "bot", Decimal("1000"), thresholds=[Decimal("0.5"), Decimal("0.9")]
    )
    assert len(levels(bot)) == 2


def test_a_budget_in_euros_is_converted_at_the_month_rate(bot: Ledger, tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("valid_from,from_currency,to_currency,rate\n2026-01-01,EUR,USD,1.10\n")
    bot.costs.ingest_rates(rates)
    bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"), "EUR")
    # 1,000 EUR x 1.10 = 1,100 USD; 80 % of it is 880 USD.
    spend(bot, tmp_path, "879.99", "first")
    assert levels(bot) == []
    spend(bot, tmp_path, "0.01", "second")
    assert levels(bot) == [("budget:bot", "2026-01", "80%")]
    [status] = bot.costs.budgets.budget_status(on=date(2026, 1, 9))
    assert (status.currency, status.amount, status.spent) == (
        "USD",
        Decimal("1100"),
        Decimal("880"),
    )
    assert status.share == pytest.approx(0.8)


def test_a_budget_for_a_period_sums_its_months(bot: Ledger, tmp_path: Path) -> None:
    bot.costs.budgets.set_budget(
        "q1",
        "business_unit",
        "ops",
        Decimal("3000"),
        period="period",
        start=date(2026, 1, 1),
        end=date(2026, 3, 1),
    )
    spend(bot, tmp_path, "1000", "jan")
    spend(bot, tmp_path, "1000", "feb", month="2026-02")
    assert levels(bot) == []
    # 1,000 + 1,000 + 400 = 2,400 = 80 % of 3,000, over the three months of the period.
    spend(bot, tmp_path, "400", "mar", month="2026-03")
    assert levels(bot) == [("budget:q1", "2026-01..2026-03", "80%")]
    # April is not in the period.
    spend(bot, tmp_path, "5000", "apr", month="2026-04")
    assert levels(bot) == [("budget:q1", "2026-01..2026-03", "80%")]


def test_an_initiative_budget_follows_its_business_case(bot: Ledger, tmp_path: Path) -> None:
    case = {
        "currency": "USD",
        "monthly_investment": 500,
        "monthly_value_at_full_adoption": 2000,
        "adoption_ramp": {"ceiling": 0.8, "midpoint_month": 4, "steepness": 1},
    }
    bot.portfolio.add_initiative(ready("triage", business_case=case))
    [derived] = [b for b in bot.costs.budgets.budgets() if b.value == "triage"]
    assert (derived.id, derived.source, derived.amount, derived.period) == (
        "case:triage",
        "business case",
        Decimal("500"),
        "monthly",
    )
    # 400 is 80 % of the planned 500 a month.
    spend(bot, tmp_path, "400", "triage", initiative="triage")
    assert levels(bot) == [("budget:case:triage", "2026-01", "80%")]
    # A budget set for the initiative replaces the derived one.
    bot.costs.budgets.set_budget("triage", "initiative", "triage", Decimal("2000"))
    assert [b.id for b in bot.costs.budgets.budgets()] == ["triage"]


def test_an_agent_whose_hard_limit_is_spent_is_denied(agent: Ledger, tmp_path: Path) -> None:
    admin = agent.acting_as("alice")
    admin.costs.budgets.set_budget(
        "refunds-cap", "initiative", "refunds", Decimal("1000"), hard_limit=True
    )
    spend(admin, tmp_path, "999.99", "first", initiative="refunds")
    assert agent.agents.authorize("refunds", "send_reply").decision == "allow"
    spend(admin, tmp_path, "0.01", "second", initiative="refunds")
    decided = agent.agents.authorize("refunds", "send_reply")
    assert (decided.decision, decided.rules) == ("deny", ["budget:refunds-cap"])
    assert "refunds-cap is spent" in decided.details[0].message
    # Raised, the limit lets it act again.
    admin.costs.budgets.set_budget(
        "refunds-cap", "initiative", "refunds", Decimal("2000"), hard_limit=True
    )
    assert agent.agents.authorize("refunds", "send_reply").decision == "allow"


def test_bad_budgets_are_refused_naming_the_field(bot: Ledger) -> None:
    with pytest.raises(ValidationError) as refused:
        bot.costs.budgets.set_budget("Bad Id", "team", "", Decimal("-1"), "euro", hard_limit=True)
    found = {p.where for p in refused.value.problems}
    assert {"budget_id", "scope", "value", "amount", "currency", "hard_limit"} <= found
    with pytest.raises(ValidationError, match="hard_limit"):
        bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal(1), hard_limit=True)
    with pytest.raises(ValidationError, match="EUR in 2026-01: has no rate"):
        bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal(1), "EUR")
    with pytest.raises(NotFound):
        bot.costs.budgets.remove_budget("none")


def test_budgets_are_audited_and_need_cost_write(bot: Ledger) -> None:
    bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
    bot.costs.budgets.remove_budget("bot")
    actions = [e.action for e in bot.governance.audit.audit_log() if e.entity_type == "budget"]
    assert actions == ["budget.remove", "budget.set"]
    bot.governance.users.add_user("vic", "viewer")
    with pytest.raises(Exception, match=r"vic .* may not"):
        bot.acting_as("vic").costs.budgets.set_budget("x", "initiative", "bot", Decimal(1))
    assert bot.governance.audit.verify_audit().ok


def test_budgets_of_a_tag_an_api_key_and_a_provider(ledger: Ledger, tmp_path: Path) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "ts,model,vendor,cost,currency,key,squad\n"
        "2026-01-03T10:00:00Z,llama-x,in-house,300,USD,sk-search,search\n"
        "2026-01-03T11:00:00Z,llama-x,in-house,500,USD,sk-support,support\n"
    )
    mapping = {
        "timestamp": "ts",
        "model": "model",
        "provider": "vendor",
        "cost": "cost",
        "currency": "currency",
        "api_key": "key",
        "tag.team": "squad",
    }
    budgets = ledger.costs.budgets
    budgets.set_budget("search", "tag", "team=search", Decimal("350"))
    budgets.set_budget("support-key", "api_key", "sk-support", Decimal("600"), hard_limit=True)
    budgets.set_budget("in-house", "provider", "in-house", Decimal("1000"))
    ledger.costs.ingest_usage(usage, "csv", mapping)
    # search: 300 of 350 (80 % is 280); sk-support: 500 of 600 (480); in-house: 300 + 500 =
    # 800 of 1,000 (800). Each reached 80 %, none 100 %.
    assert levels(ledger) == [
        ("budget:in-house", "2026-01", "80%"),
        ("budget:search", "2026-01", "80%"),
        ("budget:support-key", "2026-01", "80%"),
    ]
    assert budgets.spent_limit("api_key", "sk-support", date(2026, 1, 9)) is None
    more = tmp_path / "more.csv"
    more.write_text(
        usage.read_text().splitlines()[0] + "\n"
        "2026-01-04T11:00:00Z,llama-x,in-house,100,USD,sk-support,support\n"
    )
    ledger.costs.ingest_usage(more, "csv", mapping)
    # sk-support: 500 + 100 = 600, its hard limit: a gateway asking about the key is told.
    assert budgets.spent_limit("api_key", "sk-support", date(2026, 1, 9)) == "support-key"
    assert ("budget:support-key", "2026-01", "100%") in levels(ledger)


def test_a_cost_written_ahead_alerts_once_its_period_has_begun(
    bot: Ledger, tmp_path: Path, clock: SteppingClock
) -> None:
    # The clock reads 5 January 2026. March's licence, 900 of 1,000, is entered now: 80 %
    # (800) is reached, but March has not begun, so nothing is raised yet; the budget's status
    # for March shows it spent.
    bot.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
    spend(bot, tmp_path, "900", "licence", month="2026-03")
    assert levels(bot) == []
    [march] = bot.costs.budgets.budget_status("bot", on=date(2026, 3, 31))
    assert march.spent == 900
    # In March, the next look at its spend raises it, dated in March, saying the spend then.
    clock.now = datetime(2026, 3, 2, 9, 0)
    bot.costs.budgets.alert_thresholds([date(2026, 3, 1)])
    [alert] = bot.costs.alerts.alerts()
    assert (alert.period, alert.level, alert.raised_at.date()) == (
        "2026-03",
        "80%",
        clock.now.date(),
    )
    assert alert.message.endswith("80% of 1,000.00 USD reached, 900.00 USD spent when raised")

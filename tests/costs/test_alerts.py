"""Alerts: delivered to webhooks exactly once, also when a delivery fails first; each threshold
of each period alerts once, whatever the sequence of spend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SteppingClock, ready
from tests.costs.conftest import Receiver, hooked
from tests.costs.test_budgets import spend
from valuegap import Ledger
from valuegap.model.webhooks import shown_url


def test_each_alert_reaches_each_webhook_once_though_its_first_try_fails(
    receiver: Receiver, tmp_path: Path
) -> None:
    with Ledger.init(
        tmp_path / "l.duckdb", actor="alice", settings=hooked(receiver), clock=SteppingClock()
    ) as ledger:
        ledger.portfolio.add_initiative(ready("bot"))
        ledger.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
        spend(ledger, tmp_path, "801", "first")  # reaches 80 %
        spend(ledger, tmp_path, "801", "first")  # the same again: nothing
        spend(ledger, tmp_path, "200", "second")  # reaches 100 %
        spend(ledger, tmp_path, "5", "third")  # nothing new
        assert ledger.costs.alerts.deliver() == []  # nothing pending
        alerts = ledger.costs.alerts.alerts()
    # Each webhook refused its first POST (500), took it on the second try, and never got
    # an alert twice.
    generic = receiver.taken["/generic"]
    assert sorted(a["level"] for a in generic) == ["100%", "80%"]
    assert len({a["id"] for a in generic}) == 2
    assert receiver.tried["/generic"] == 3  # 500, then 200 for each of the two alerts
    assert [b["text"] for b in receiver.taken["/services/T0/B0/secret"]] == [
        f"valuegap budget threshold: {a.message}" for a in reversed(alerts)
    ]
    card = receiver.taken["/teams"][0]
    assert (card["@type"], card["@context"]) == ("MessageCard", "http://schema.org/extensions")
    assert len(receiver.keys) == len(set(receiver.keys)) == 6
    for alert in alerts:
        assert [(d.webhook, d.state, d.attempts) for d in alert.deliveries] == [
            ("chat", "delivered", 2 if alert.level == "80%" else 1),
            ("finance", "delivered", 2 if alert.level == "80%" else 1),
            ("teams", "delivered", 2 if alert.level == "80%" else 1),
        ]


def test_a_webhook_that_keeps_failing_is_retried_later_never_twice(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.failures = 4  # more than one run's three tries
    path = tmp_path / "l.duckdb"
    settings = hooked(receiver)
    with Ledger.init(path, actor="alice", settings=settings, clock=SteppingClock()) as ledger:
        ledger.portfolio.add_initiative(ready("bot"))
        ledger.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
        spend(ledger, tmp_path, "900", "first")
        [alert] = ledger.costs.alerts.alerts()
        delivery = alert.deliveries[1]
        assert (delivery.webhook, delivery.state, delivery.attempts) == ("finance", "pending", 3)
        # The error names the webhook by its host, never its path (a Slack URL's secret).
        assert "secret" not in str(alert.deliveries[0].last_error)
        assert shown_url(receiver.url) in str(delivery.last_error)
        assert receiver.taken == {}
    # Opened again (a restart), the pending deliveries are sent by `alert deliver`.
    with Ledger.open(path, actor="alice", settings=settings) as ledger:
        [delivered] = ledger.costs.alerts.deliver()
        assert {d.state for d in delivered.deliveries} == {"delivered"}
        assert ledger.costs.alerts.deliver() == []
    assert {path: len(bodies) for path, bodies in receiver.taken.items()} == {
        "/generic": 1,
        "/services/T0/B0/secret": 1,
        "/teams": 1,
    }


def test_a_webhook_is_shown_by_its_host_only() -> None:
    assert shown_url("https://hooks.slack.com/services/T1/B2/XYZ?x=1") == "https://hooks.slack.com"


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["2026-01", "2026-02"]), st.integers(1, 600)),
        min_size=1,
        max_size=6,
    )
)
def test_each_threshold_alerts_once_per_period_and_exactly_once_if_reached(
    tmp_path_factory: pytest.TempPathFactory, increments: list[tuple[str, int]]
) -> None:
    tmp_path = tmp_path_factory.mktemp("budget")
    # In February: January (last month, whose bills arrive now) and February both alert.
    clock = SteppingClock(datetime(2026, 2, 2, 9, 0))
    with Ledger.init(tmp_path / "l.duckdb", actor="alice", clock=clock) as ledger:
        ledger.portfolio.add_initiative(ready("bot"))
        ledger.costs.budgets.set_budget("bot", "initiative", "bot", Decimal("1000"))
        totals: dict[str, int] = {}
        for n, (month, amount) in enumerate(increments):
            spend(ledger, tmp_path, str(amount), f"n{n}", month=month)
            totals[month] = totals.get(month, 0) + amount
        raised = [(a.period, a.level) for a in ledger.costs.alerts.alerts()]
    assert len(raised) == len(set(raised))  # at most once
    expected = {
        (month, level)
        for month, total in totals.items()
        for level, at in (("80%", 800), ("100%", 1000))
        if total >= at
    }
    assert set(raised) == expected  # exactly once if reached


def test_webhooks_are_read_from_the_settings_file_and_never_shown(tmp_path: Path) -> None:
    from valuegap.errors import ConfigError
    from valuegap.settings import load_settings

    config = tmp_path / "valuegap.toml"
    config.write_text(
        '[[alert_webhooks]]\nname = "ops"\nurl = "https://hooks.slack.com/services/T/B/s3cret"\n'
        'shape = "slack"\n'
    )
    [hook] = load_settings(env={}, config_file=config).alert_webhooks
    assert (hook.name, hook.shape) == ("ops", "slack")
    assert "s3cret" not in repr(hook)
    config.write_text(
        '[[alert_webhooks]]\nname = "ops"\nurl = "ftp://hooks.example/s3cret"\nshape = "sms"\n'
    )
    with pytest.raises(ConfigError) as refused:
        load_settings(env={}, config_file=config)
    assert "ops.shape must be one of json, slack, teams" in str(refused.value)
    assert "ops.url must be an http(s) URL" in str(refused.value)
    assert "s3cret" not in str(refused.value)

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from .conftest import Run


def test_budgets_and_alerts_from_the_command_line(
    run: Run, example_portfolio: Path, tmp_path: Path
) -> None:
    run("apply", str(example_portfolio))
    this_month = date.today().replace(day=1)
    set_ = run(
        "budget",
        "set",
        "qa",
        "initiative",
        "loc-qa",
        "1000",
        "--currency",
        "USD",
        "--threshold",
        "0.5",
        "--threshold",
        "1",
    )
    assert set_.exit_code == 0, set_.output
    assert set_.stdout.strip() == "Budget qa set: 1000 USD monthly."
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        f"{this_month},{this_month.replace(day=28)},operations,600,USD,loc-qa,,GPU hours\n"
    )
    assert run("ingest", "costs", str(costs)).exit_code == 0
    # 600 of 1,000 reached 50 % (500), not 100 %.
    alerts = json.loads(run("alert", "list", "--format", "json").stdout)
    assert [(a["subject"], a["period"], a["level"], a["value"]) for a in alerts] == [
        ("budget:qa", f"{this_month:%Y-%m}", "50%", "600")
    ]
    assert alerts[0]["deliveries"] == []  # no webhook in the settings
    listed = json.loads(run("budget", "list", "--format", "json").stdout)
    assert [(b["id"], b["source"], b["thresholds"]) for b in listed if b["id"] == "qa"] == [
        ("qa", "set", ["0.5", "1"])
    ]
    [status] = json.loads(run("budget", "status", "qa", "--format", "json").stdout)
    assert (status["spent"], status["remaining"], status["passed"]) == ("600", "400", ["0.5"])
    assert run("alert", "deliver").stdout.strip() == "No delivery was pending."
    # The forecast of loc-qa's month is its 600 of manual costs (no daily spend), within the
    # 1,000 of the budget: nothing to raise, then or again.
    assert run("alert", "check").stdout.strip() == "No new alert."
    assert run("budget", "remove", "qa").exit_code == 0
    refused = run("budget", "set", "qa", "initiative", "loc-qa", "-5")
    assert refused.exit_code != 0 and "amount" in refused.output

"""/api/v1/budgets and /api/v1/alerts over the demo: refund-agent's costs from 2026 on
(155,733.75 USD) against a hard-limited budget for a period that holds today."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import AGENT_ACCOUNT, Served, cli_json, problem

AUTHORIZE = "/api/v1/agents/refund-agent/authorize"
YEAR = {
    "scope": "initiative",
    "value": "refund-agent",
    "amount": "200000",
    "period": "period",
    "start": "2026-01-01",
    "end": "2099-12-01",
    "hard_limit": True,
}


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    listed = served("exec.board").get("/api/v1/budgets")
    assert listed.status_code == 200, listed.text
    assert listed.json() == cli_json(demo, "budget", "list")
    assert {b["source"] for b in listed.json()} == {"business case"}


def test_a_spent_hard_limit_denies_the_agent_naming_the_budget(served: Served) -> None:
    finance = served("finn.berg")
    problem(served("exec.board").put("/api/v1/budgets/refunds-2026", json=YEAR), 403)
    # 155,733.75 of 200,000 is 77.9 %: no threshold reached, the agent may act.
    assert finance.put("/api/v1/budgets/refunds-2026", json=YEAR).status_code == 200
    body = {"action": "send_reply"}
    assert served(AGENT_ACCOUNT).post(AUTHORIZE, json=body).json()["decision"] == "allow"
    assert served().get("/api/v1/alerts", params={"subject": "budget:refunds-2026"}).json() == []
    # Of 150,000 the spend has reached both 80 % (120,000) and 100 %.
    lower = {**YEAR, "amount": "150000"}
    assert finance.put("/api/v1/budgets/refunds-2026", json=lower).status_code == 200
    decided = served(AGENT_ACCOUNT).post(AUTHORIZE, json=body).json()
    assert (decided["decision"], decided["rules"]) == ("deny", ["budget:refunds-2026"])
    alerts = served().get("/api/v1/alerts", params={"subject": "budget:refunds-2026"}).json()
    assert [(a["period"], a["level"]) for a in alerts] == [
        ("2026-01..2099-12", "100%"),
        ("2026-01..2099-12", "80%"),
    ]
    [status] = (
        served()
        .get("/api/v1/budgets/status", params={"budget": "refunds-2026", "on": "2026-03-01"})
        .json()
    )
    assert (status["amount"], status["exhausted"]) == ("150000", True)
    assert finance.delete("/api/v1/budgets/refunds-2026").status_code == 204
    assert served(AGENT_ACCOUNT).post(AUTHORIZE, json=body).json()["decision"] == "allow"


def test_a_bad_budget_is_a_problem_naming_the_field(served: Served) -> None:
    refused = served("finn.berg").put(
        "/api/v1/budgets/x", json={**YEAR, "value": "loc-qa", "amount": "-1"}
    )
    found = problem(refused, 422)
    assert {p["where"] for p in found["errors"]} >= {"amount", "hard_limit"}


def test_the_alert_check_raises_the_forecast_overruns_once(served: Served) -> None:
    # On 11 June 2026 five of the demo's initiatives have Junes forecast above their business
    # cases' planned investment (their manual costs alone pass it: refund-agent's 23,600 of
    # 18,000), none within what the J-curve invests by then: over_plan, each once.
    check = {"on": "2026-06-11"}
    problem(served("exec.board").post("/api/v1/alerts/check", params=check), 403)
    raised = served("finn.berg").post("/api/v1/alerts/check", params=check)
    assert raised.status_code == 200, raised.text
    names = ("code-review", "doc-classifier", "fraud-detection", "product-recs", "refund-agent")
    assert sorted((a["kind"], a["subject"], a["level"]) for a in raised.json()) == [
        ("forecast_overrun", f"initiative={name}", "over_plan") for name in names
    ]
    assert served("finn.berg").post("/api/v1/alerts/check", params=check).json() == []
    listed = served().get("/api/v1/alerts", params={"kind": "forecast_overrun"}).json()
    assert len(listed) == 5
    [status] = (
        served()
        .get("/api/v1/budgets/status", params={"budget": "case:refund-agent", "on": "2026-06-11"})
        .json()
    )
    assert status["forecast"] is not None
    # A day whose spend cannot be read (the year 9999's December has no month after it).
    for route in ("/api/v1/budgets/status", "/api/v1/alerts/check"):
        call = served("finn.berg").get if route.endswith("status") else served("finn.berg").post
        refused = problem(call(route, params={"on": "9999-12-31"}), 422)
        assert refused["errors"][0]["where"] == "on"

"""Every report over the API is the JSON the CLI prints with ``--format json``: that of the
Ledger call (``results.to_data``), and, for the cost report, the rows the CLI shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from valuegap.errors import NotFound
from valuegap.outcomes.periods import Window, parse_period
from valuegap.results import to_data

from .conftest import Served, Server


def test_the_portfolio_report_is_the_ledgers_for_every_window(demo_server: Server) -> None:
    client, outcomes = demo_server.client("exec.board"), demo_server.ledger.outcomes
    for query, window in [
        ("", Window()),
        ("?period=2026-Q1", parse_period("2026-Q1")),
        ("?from=2025-07&to=2026-01", Window(date(2025, 7, 1), date(2026, 1, 1))),
    ]:
        response = client.get(f"/api/v1/reports/portfolio{query}")
        assert response.status_code == 200
        assert response.json() == to_data(outcomes.portfolio_report(window))


def test_the_initiative_report_and_scoreboard_are_the_ledgers(demo_server: Server) -> None:
    client = demo_server.client("ana.costa")
    outcomes = demo_server.ledger.acting_as("ana.costa").outcomes  # her units only
    report = client.get("/api/v1/reports/initiatives/loc-qa?period=2026").json()
    assert report == to_data(outcomes.initiative_report("loc-qa", parse_period("2026")))
    assert client.get("/api/v1/reports/scoreboard").json() == to_data(outcomes.scoreboard())
    quarter = client.get("/api/v1/reports/scoreboard?period=2026-Q1").json()
    assert quarter == to_data(outcomes.scoreboard(parse_period("2026-Q1")))
    assert quarter["period"] == {"from": "2026-01-01", "to": "2026-04-01"}


def test_costs_are_the_rows_the_cli_shows_summed_by_what_was_asked(demo_server: Server) -> None:
    client, costs = demo_server.client("exec.board"), demo_server.ledger.costs
    rows = client.get("/api/v1/reports/costs?by=provider,month&from=2026-01&to=2026-04").json()
    lines = costs.cost_report(["provider", "month"], date(2026, 1, 1), date(2026, 4, 1))
    assert rows == to_data([line.summed_by(["provider", "month"]) for line in lines])
    assert set(rows[0]) == {"provider", "month", "cost", "estimated", "usage_cost", "currency"}
    assert {row["month"] for row in rows} == {"2026-01", "2026-02", "2026-03"}
    # each dollar once: the rows add up to the quarter's total by month alone
    by_month = client.get("/api/v1/reports/costs?by=month&from=2026-01&to=2026-04").json()
    assert sum(Decimal(r["cost"]) for r in rows) == sum(Decimal(r["cost"]) for r in by_month)


def test_reconciliation_is_the_ledgers_at_the_tolerance_asked(demo_server: Server) -> None:
    client, costs = demo_server.client("exec.board"), demo_server.ledger.costs
    strict = client.get("/api/v1/reports/reconcile?tolerance=0.001").json()
    assert strict == to_data(costs.reconcile(Decimal("0.001")))
    assert client.get("/api/v1/reports/reconcile").json() == to_data(costs.reconcile())


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("/reports/costs?by=colour", "by"),
        ("/reports/portfolio?period=2026-Q5", "period"),
        ("/reports/portfolio?period=2026&from=2026-01", "period"),
        ("/reports/portfolio?from=2026-13", "query.from"),
        ("/reports/reconcile?tolerance=-1", "query.tolerance"),
    ],
)
def test_a_bad_option_is_a_422_naming_it(demo_server: Server, query: str, where: str) -> None:
    response = demo_server.client("exec.board").get(f"/api/v1{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["where"] == where


def test_a_contributor_sees_only_their_units_initiative_reports(demo_server: Server) -> None:
    omar = demo_server.ledger.acting_as("omar.haddad")  # operations, customer-service
    assert omar.outcomes.initiative_report("doc-classifier").initiative.id == "doc-classifier"
    with pytest.raises(NotFound, match="product-recs"):  # commerce's: as if it were not there
        omar.outcomes.initiative_report("product-recs")
    response = demo_server.client("omar.haddad").get("/api/v1/reports/initiatives/product-recs")
    assert response.status_code == 404


def test_a_contributors_costs_budgets_alerts_and_audit_log_are_of_their_units(
    demo_server: Server,
) -> None:
    ana = demo_server.client("ana.costa")  # marketing: loc-qa
    lines = ana.get("/api/v1/reports/costs", params={"by": "initiative,business_unit"}).json()
    assert lines and all(
        line["initiative"] == "loc-qa" or line["business_unit"] == "marketing" for line in lines
    )
    assert [b["id"] for b in ana.get("/api/v1/budgets").json()] == ["case:loc-qa"]
    refused = ana.get("/api/v1/budgets/status", params={"budget": "case:fraud-detection"})
    assert refused.status_code == 404
    assert not [a for a in ana.get("/api/v1/alerts").json() if "loc-qa" not in a["subject"]]
    entries = ana.get("/api/v1/audit", params={"limit": 1000}).json()
    assert entries and not [e for e in entries if e["entity_type"] in ("agent", "scenario")]
    assert ana.get("/api/v1/audit", params={"entity": "refund-agent"}).json() == []


def test_a_window_whose_previous_would_begin_before_year_one_has_none(
    demo_server: Server,
) -> None:
    """1,901 years from 1900-01: the 1,901 before would begin in year -1."""
    response = demo_server.client("exec.board").get(
        "/api/v1/reports/portfolio?from=1900-01&to=3801-01"
    )
    assert response.status_code == 200
    assert response.json()["previous_attribution_coverage"] is None
    assert Window(date(1000, 1, 1), date(2000, 1, 1)).previous() is None
    assert Window(date(1001, 1, 1), date(2001, 1, 1)).previous() == Window(
        date(1, 1, 1), date(1001, 1, 1)
    )


def test_the_forecast_and_anomalies_are_the_ledgers(demo_server: Server) -> None:
    client, spend = demo_server.client("exec.board"), demo_server.ledger.costs.spend
    forecast = client.get("/api/v1/reports/forecast?month=2026-06&as_of=2026-06-11").json()
    june = spend.forecast(["initiative"], date(2026, 6, 1), as_of=date(2026, 6, 11))
    assert forecast == to_data(june)
    asked = "/api/v1/reports/anomalies?by=provider&since=2026-03-01&until=2026-03-08"
    anomalies = client.get(asked).json()
    assert anomalies == to_data(spend.anomalies(["provider"], date(2026, 3, 1), date(2026, 3, 8)))
    assert {a["provider"] for a in anomalies["anomalies"]} == {"OpenAI"}
    wrong = client.get("/api/v1/reports/anomalies?by=colour")
    assert wrong.status_code == 422


def test_the_coverage_trend_is_the_ledgers_for_every_window(demo_server: Server) -> None:
    client, outcomes = demo_server.client("exec.board"), demo_server.ledger.outcomes
    for query, window in [
        ("", Window()),
        ("?period=2026-Q1", parse_period("2026-Q1")),
        ("?from=2025-07&to=2026-01", Window(date(2025, 7, 1), date(2026, 1, 1))),
    ]:
        response = client.get(f"/api/v1/reports/coverage{query}")
        assert response.status_code == 200
        assert response.json() == to_data(outcomes.coverage_trend(window))
    quarter = client.get("/api/v1/reports/coverage?period=2026-Q1").json()
    assert [m["month"] for m in quarter["months"]] == ["2026-01", "2026-02", "2026-03"]


def test_the_executive_report_as_json_html_and_pdf(demo_server: Server) -> None:
    from valuegap.charts.executive import executive_report

    client = demo_server.client("exec.board")
    report = client.get("/api/v1/reports/executive?format=json&period=2026-Q1")
    assert report.status_code == 200
    expected = executive_report(demo_server.ledger, parse_period("2026-Q1"))
    assert report.json() == to_data(expected)
    page = client.get("/api/v1/reports/executive?format=html")
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="total-cost"' in page.text
    # a file to forward: its style is inline, which the server's CSP blocks in a page shown
    assert page.headers["content-disposition"] == 'attachment; filename="executive-report.html"'
    pdf = client.get("/api/v1/reports/executive")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_executive_report_of_a_past_period_says_what_the_reviews_said_then(
    served: Served,
) -> None:
    """The demo reviewed doc-classifier on 2025-09-09 (scale); its next review, six months
    on, is run here as of 2026-03-10. The report of 2025-Q4 (to 2026-01-01) shows the
    September review, said then, not "not reviewed yet" for want of the later one."""
    from valuegap.charts.executive import executive_report

    ledger = served.ledger
    later = ledger.governance.run_reviews(date(2026, 3, 10))
    assert "doc-classifier" in {r.initiative for r in later}
    report = executive_report(ledger, parse_period("2025-Q4"))
    [line] = [a for a in report.actions if a.id == "doc-classifier"]
    assert (line.action, line.reviewed_on) == ("scale", date(2025, 9, 9))
    now = executive_report(ledger, parse_period("2026-Q2"))
    [line] = [a for a in now.actions if a.id == "doc-classifier"]
    assert line.reviewed_on == date(2026, 3, 10)

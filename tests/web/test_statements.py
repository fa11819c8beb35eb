"""Statements over the API, on the demo: each the JSON of the Ledger call; chargeback switched
and months closed by finance only; a contributor reads only their own units' statements."""

from __future__ import annotations

from decimal import Decimal

from valuegap.outcomes.periods import parse_period
from valuegap.results import to_data

from ..costs.test_allocation import FOCUS_HEADER, focus_line
from .conftest import Server, problem


def _row(server: Server, unit: str, period: str) -> Decimal:
    window = parse_period(period)
    rows = server.ledger.costs.cost_report(["business_unit"], window.start, window.end)
    return next(r.cost for r in rows if r.business_unit == unit)


def test_every_units_statement_totals_its_rows_of_the_cost_report(demo_server: Server) -> None:
    client = demo_server.client("exec.board")
    units = [r.business_unit for r in demo_server.ledger.costs.cost_report(["business_unit"])]
    assert len(units) == 7  # six units and the unallocated cost
    for period in ("2026-03", "2026-Q1"):
        for unit in units:
            body = client.get(f"/api/v1/statements/{unit}?period={period}").json()
            assert Decimal(body["cost"]) == _row(demo_server, unit, period), (unit, period)
            assert sum(Decimal(line["cost"]) for line in body["lines"]) == Decimal(body["cost"])
    march = demo_server.ledger.statements.statement("marketing", parse_period("2026-03"))
    body = client.get("/api/v1/statements/marketing?period=2026-03").json()
    assert body == to_data(march)
    # The demo's shared AI platform is split by tokens among loc-qa (marketing),
    # doc-classifier (operations) and refund-agent (customer-service).
    assert [(s["rule"], s["driver"], s["initiative"]) for s in body["shared"]] == [
        ("shared-ai-platform", "tokens", "loc-qa")
    ]


def test_a_contributor_reads_only_their_units_statements(demo_server: Server) -> None:
    ana = demo_server.client("ana.costa")  # a contributor in marketing
    assert ana.get("/api/v1/statements/marketing?period=2026-03").status_code == 200
    refused = problem(ana.get("/api/v1/statements/commerce?period=2026-03"), 403)
    assert "commerce" in refused["detail"]


def test_only_finance_switches_a_unit_and_closes_a_month(demo_server: Server) -> None:
    switch = {"from_month": "2026-03", "cost_centre": "CC-410"}
    ana = demo_server.client("ana.costa")
    problem(ana.put("/api/v1/chargeback/marketing", json=switch), 403)
    problem(ana.post("/api/v1/statements/marketing/close", json={"month": "2026-02"}), 403)
    problem(demo_server.client("finn.berg").put("/api/v1/chargeback/x", json=switch), 422)
    assert demo_server.client("exec.board").get("/api/v1/chargeback").json() == []


def test_a_corrected_february_bill_leaves_february_and_is_booked_in_march(
    demo_server: Server,
) -> None:
    finance = demo_server.client("finn.berg")
    closed = finance.post("/api/v1/statements/commerce/close", json={"month": "2026-02"})
    assert closed.status_code == 200
    february = closed.json()
    assert Decimal(february["cost"]) == _row(demo_server, "commerce", "2026-02")
    switch = {"from_month": "2026-03", "cost_centre": "CC-210"}
    unit = finance.put("/api/v1/chargeback/commerce", json=switch).json()
    assert (unit["from_month"], unit["closed_months"]) == ("2026-03", ["2026-02"])
    march_before = finance.get("/api/v1/statements/commerce?period=2026-03").json()
    assert march_before["mode"] == "chargeback" and march_before["adjustments"] == []
    # The corrected February bill: a late 1,234.56 for product-recs (commerce), which no
    # split shares.
    late = focus_line("1234.56", {"initiative": "product-recs"}, "Amazon SageMaker", "2026-02")
    bill = ("corrected.csv", f"{FOCUS_HEADER}\n{late}\n".encode(), "text/csv")
    assert finance.post("/api/v1/ingest/focus", files=[("files", bill)]).status_code == 200
    now = _row(demo_server, "commerce", "2026-02")
    assert now == Decimal(february["cost"]) + Decimal("1234.56")

    reader = demo_server.client("lena.fischer")  # a contributor in commerce
    assert reader.get("/api/v1/statements/commerce?period=2026-02").json() == february
    march = reader.get("/api/v1/statements/commerce?period=2026-03").json()
    assert [(a["corrects"], a["initiative"], a["difference"]) for a in march["adjustments"]] == [
        ("2026-02", "product-recs", "1234.56")
    ]
    assert march["cost"] == march_before["cost"]
    assert Decimal(march["to_book"]) == Decimal(march["cost"]) + Decimal("1234.56")
    assert march["cost_centre"] == "CC-210"

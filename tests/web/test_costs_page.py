"""The costs page shows the cost report's numbers; finance uploads a cost file there and the
totals change by its amount; a viewer has no upload button and is refused if it posts."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from tests.conftest import DEMO_TOTAL
from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in

# One manual cost of 1,250 USD for code review in June 2026 (a month the demo has).
MANUAL = (
    "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
    "2026-06-01,2026-07-01,data,1250,USD,code-review,,Labelled review comments\n"
)


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def test_the_costs_page_shows_the_reports_numbers(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/costs")
    assert page.status_code == 200
    shown = figures(page.text)
    api = served("exec.board")
    by_unit = api.get("/api/v1/reports/costs", params={"by": "business_unit"}).json()
    portfolio = api.get("/api/v1/reports/portfolio").json()
    assert shown["total-cost"] == "3,538,738.60"
    assert sum(Decimal(row["cost"]) for row in by_unit) == DEMO_TOTAL + Decimal("0.004")
    assert shown["unallocated-cost"] == _money(portfolio["unallocated_cost"])
    unallocated = next(row for row in by_unit if row["business_unit"] == "(unallocated)")
    assert shown["unallocated-cost"] == _money(unallocated["cost"])
    assert shown["estimated-cost"] == _money(str(sum(Decimal(r["estimated"]) for r in by_unit)))
    reconciled = api.get("/api/v1/reports/reconcile").json()
    assert shown["reconcile-gaps"] == str(sum(1 for r in reconciled if r["status"] == "gap"))
    for row in by_unit:  # each unit's cost, in the table beside the chart
        assert f'<td>{row["business_unit"]}</td><td class="num">{_money(row["cost"])}</td>' in (
            page.text
        )
    assert page.text.count('class="chart"') >= 4


def test_the_forecast_and_budgets_are_the_apis_for_the_day_shown(served: Served) -> None:
    shown = figures(signed_in(served, "finn.berg").get("/costs").text)
    api = served("finn.berg")
    # The demo's cost ends in June 2026: the page shows budgets and the forecast as of the end
    # of its last day, and says why. June is over then: its forecast is what it cost, as the
    # cost report sums it from the monthly aggregates, and all of it is spent so far (the
    # manual costs entered for June included).
    page = signed_in(served, "finn.berg").get("/costs").text
    assert "the latest month with cost" in figures(page)["as-of-note"]
    forecast = api.get(
        "/api/v1/reports/forecast",
        params={"by": "business_unit", "month": "2026-06", "as_of": "2026-07-01"},
    ).json()
    months = api.get("/api/v1/reports/costs", params={"by": "month"}).json()
    june_cost = sum(Decimal(row["cost"]) for row in months if row["month"] == "2026-06")
    assert f"{june_cost:,.2f}" == "215,610.22"
    assert shown["forecast-total"] == _money(forecast["total"]["forecast"]) == "215,610.22"
    assert shown["forecast-spent"] == "215,610.22"
    budgets = api.get("/api/v1/budgets/status", params={"on": "2026-06-30"}).json()
    for budget in budgets:  # a month that is over is forecast at its spend
        assert budget["forecast"] in (None, budget["spent"])


def test_a_statement_downloads_as_the_clis_csv(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    page = browser.get("/costs").text
    assert 'href="/costs/statements/risk.csv?period=2026-06"' in page
    answer = browser.get("/costs/statements/risk.csv?period=2026-06")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="showback-risk-2026-06.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == [
        "kind",
        "corrects",
        "initiative",
        "category",
        "provider",
        "model",
        "basis",
        "cost",
    ]
    statement = served("exec.board").get("/api/v1/statements/risk?period=2026-06").json()
    assert sum(Decimal(row["cost"]) for row in rows) == Decimal(statement["cost"])


def test_finance_uploads_a_cost_file_and_the_totals_change(served: Served) -> None:
    browser = signed_in(served, "finn.berg")
    before = figures(browser.get("/costs").text)
    assert 'data-testid="upload-button"' in browser.get("/costs").text
    files = {"file": ("june.csv", MANUAL.encode(), "text/csv")}
    answer = browser.post("/costs/upload", data={"kind": "costs", "period": ""}, files=files)
    assert answer.status_code == 200, answer.text
    assert "june.csv: 1 of 1 rows added" in " ".join(answer.text.split())
    shown = figures(answer.text)  # the report again, which htmx swaps in
    assert shown["total-cost"] == "3,539,988.60"  # 3,538,738.60 + 1,250
    after = figures(browser.get("/costs").text)
    assert after["total-cost"] == "3,539,988.60"
    # June's forecast, kept since the first view, counts the new manual cost as entered.
    june = Decimal(before["forecast-total"].replace(",", "")) + 1250
    assert after["forecast-total"] == f"{june:,.2f}"


def test_a_refused_file_names_its_row_column_and_value(served: Served) -> None:
    browser = signed_in(served, "finn.berg")
    bad = MANUAL.replace(",1250,", ",12x50,").encode()
    files = {"file": ("june.csv", bad, "text/csv")}
    answer = browser.post("/costs/upload", data={"kind": "costs"}, files=files)
    assert answer.status_code == 200
    assert "june.csv was not ingested; nothing from it was stored." in answer.text
    cells = " ".join(answer.text.split())
    assert '<td>june.csv</td> <td class="num">1</td> <td>amount</td> <td>12x50</td>' in cells
    assert figures(browser.get("/costs").text)["total-cost"] == "3,538,738.60"


def test_a_viewer_has_no_upload_and_is_refused_if_it_posts(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    assert "upload-button" not in browser.get("/costs").text
    files = {"file": ("june.csv", MANUAL.encode(), "text/csv")}
    answer = browser.post("/costs/upload", data={"kind": "costs"}, files=files)
    assert answer.status_code == 403
    assert "exec.board (viewer) may not ingest costs" in answer.json()["detail"]
    assert figures(browser.get("/costs").text)["total-cost"] == "3,538,738.60"


def test_an_upload_without_the_csrf_token_is_refused(served: Served) -> None:
    browser = signed_in(served, "finn.berg")
    del browser.headers["X-CSRF-Token"]
    files = {"file": ("june.csv", MANUAL.encode(), "text/csv")}
    assert browser.post("/costs/upload", data={"kind": "costs"}, files=files).status_code == 403


def test_a_statement_of_a_unit_named_in_any_letters_downloads(served: Served) -> None:
    """A header is Latin-1: the file's name goes as ASCII and again in UTF-8 (RFC 6266);
    a ``/`` in the unit's name stays inside the link's one path part."""
    unit = "Forschung/Entwicklung-東京"
    manual = MANUAL.replace("code-review,,", f",{unit},")
    served.ledger.costs.ingest_costs(manual.encode(), source_name="tokyo.csv")
    browser = signed_in(served, "exec.board")
    page = browser.get("/costs?period=2026-06").text
    quoted = "Forschung%2FEntwicklung-%E6%9D%B1%E4%BA%AC"
    assert f'href="/costs/statements/{quoted}.csv?period=2026-06"' in page
    answer = browser.get(f"/costs/statements/{quoted}.csv?period=2026-06")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == (
        'attachment; filename="showback-Forschung-Entwicklung-__-2026-06.csv"; '
        "filename*=UTF-8''showback-Forschung-Entwicklung-%E6%9D%B1%E4%BA%AC-2026-06.csv"
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sum(Decimal(row["cost"]) for row in rows) == 1250


def test_a_contributor_sees_only_the_statements_they_may_read(served: Served) -> None:
    page = signed_in(served, "ana.costa").get("/costs").text  # marketing
    assert re.findall(r'href="/costs/statements/([^.]+)\.csv', page) == ["marketing"]


def test_an_upload_the_ledger_refuses_says_why_in_the_panel(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valuegap.costs.api import Costs
    from valuegap.errors import ConfigError

    def busy(*args: object, **kwargs: object) -> None:
        raise ConfigError("The ledger is busy; try again in a minute.")

    monkeypatch.setattr(Costs, "ingest_costs", busy)
    browser = signed_in(served, "finn.berg")
    files = {"file": ("june.csv", MANUAL.encode(), "text/csv")}
    answer = browser.post("/costs/upload", data={"kind": "costs"}, files=files)
    assert answer.status_code == 200
    assert "The ledger is busy; try again in a minute." in answer.text
    assert 'data-testid="upload-refused"' in answer.text


def test_the_demos_alerts_are_raised_after_their_months_begin(served: Served) -> None:
    # The demo loads all its cost on 6 January 2025 and raises each month's threshold alerts
    # on the first day of the month after, as its calendar passes: none before its month, and
    # each with the month's spend (refund-agent's June: 26,136.29 USD, as its budget shows).
    api = served("finn.berg")
    alerts = api.get("/api/v1/alerts", params={"kind": "budget_threshold"}).json()
    assert alerts
    assert all(a["raised_at"][:7] >= a["period"][:7] for a in alerts)
    june = [
        a for a in alerts if a["subject"] == "budget:case:refund-agent" and a["period"] == "2026-06"
    ]
    assert {(a["level"], a["raised_at"][:10]) for a in june} == {
        ("80%", "2026-07-01"),
        ("100%", "2026-07-01"),
    }
    assert all("26,136.29 USD spent when raised" in a["message"] for a in june)
    [status] = api.get(
        "/api/v1/budgets/status", params={"budget": "case:refund-agent", "on": "2026-06-30"}
    ).json()
    assert _money(status["spent"]) == "26,136.29"

"""The portfolio, costs and adoption pages in a real browser: their headline numbers are the
JSON reports' (asked in the same browser session), their charts are drawn, finance's upload
changes the totals, and a viewer sees no upload or approve button and is refused if it posts."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.web.browser.conftest import PHONE, Browsing, LiveServer

pytestmark = pytest.mark.slow

# One manual cost of 1,250 USD for code review in June 2026 (a month the demo has).
MANUAL = (
    "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
    "2026-06-01,2026-07-01,data,1250,USD,code-review,,Labelled review comments\n"
)


def _money(amount: str | Decimal) -> str:
    return f"{Decimal(amount):,.2f}"


def _charts_drawn(tab: Browsing) -> int:
    """How many chart places hold a drawing; every one must."""
    places = tab.page.locator(".chart").count()
    assert tab.page.locator(".chart svg").count() >= places
    return int(places)


def test_the_portfolio_and_costs_pages_show_the_reports_numbers(
    browse: Callable[..., Browsing],
) -> None:
    tab = browse("finn.berg")
    portfolio = tab.api("/api/v1/reports/portfolio")
    shown = tab.figures()
    assert shown["total-cost"] == _money(portfolio["total_cost"])
    assert shown["validated-cost"] == _money(portfolio["validated_cost"])
    assert shown["unallocated-cost"] == _money(portfolio["unallocated_cost"])

    tab.open("/costs")
    shown = tab.figures()
    by_unit = tab.api("/api/v1/reports/costs?by=business_unit")
    assert shown["total-cost"] == _money(sum(Decimal(row["cost"]) for row in by_unit))
    assert shown["unallocated-cost"] == _money(portfolio["unallocated_cost"])
    assert shown["estimated-cost"] == _money(sum(Decimal(row["estimated"]) for row in by_unit))
    reconciled = tab.api("/api/v1/reports/reconcile")
    assert shown["reconcile-gaps"] == str(sum(1 for line in reconciled if line["status"] == "gap"))
    forecast = tab.api("/api/v1/reports/forecast?by=business_unit&month=2026-06&as_of=2026-07-01")
    # As of the end of June 30, the demo's last day with cost: June is over, forecast at its cost.
    assert shown["forecast-total"] == _money(forecast["total"]["forecast"]) == "215,610.22"
    assert _charts_drawn(tab) == 5  # four breakdowns and the forecast


def test_the_adoption_page_on_a_phone(browse: Callable[..., Browsing]) -> None:
    tab = browse("exec.board", PHONE)
    tab.open("/adoption")
    shown = tab.figures()
    ladder = tab.api("/api/v1/reports/adoption")
    conviction = tab.api("/api/v1/reports/conviction")
    assert shown["groups"] == str(len(ladder["groups"]))
    assert shown["people"] == f"{sum(group['people'] for group in ladder['groups']):,}"
    for group in conviction["groups"]:
        distance = group["distance"]
        said = "" if distance is None else f"{distance * 100:.1f}%"
        assert shown[f"distance-{group['group']}"] == said
    assert _charts_drawn(tab) == 1
    # The page does not widen on a phone: wide tables scroll inside their panel.
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_finance_uploads_a_cost_file_and_the_totals_change(
    browse: Callable[..., Browsing], own_server: LiveServer
) -> None:
    tab = browse("finn.berg", server=own_server)
    page = tab.open("/costs")
    before = Decimal(tab.figures()["total-cost"].replace(",", ""))
    page.select_option("select[name=kind]", "costs")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "june.csv", "mimeType": "text/csv", "buffer": MANUAL.encode()}],
    )
    page.click("[data-testid=upload-button]")
    page.wait_for_selector("[data-testid=upload-loaded]")
    expected = _money(before + 1250)
    page.wait_for_function(
        f"document.querySelector('[data-testid=total-cost]').textContent.trim() === '{expected}'"
    )
    tab.settle()  # the report swapped in has its charts drawn again
    tab.screenshot("costs-after-upload")
    assert _charts_drawn(tab) == 5
    assert tab.figures()["total-cost"] == _money(tab.api("/api/v1/reports/portfolio")["total_cost"])


def test_a_viewer_sees_no_upload_or_approve_button_and_is_refused(
    browse: Callable[..., Browsing],
) -> None:
    tab = browse("exec.board")
    page = tab.open("/costs")
    assert page.locator("[data-testid=upload-button]").count() == 0
    headers = json.loads(page.get_attribute("body", "hx-headers") or "{}")
    refused = page.request.post(
        tab.server.url + "/costs/upload",
        headers=headers,
        multipart={
            "kind": "costs",
            "file": {"name": "june.csv", "mimeType": "text/csv", "buffer": MANUAL.encode()},
        },
    )
    assert refused.status == 403
    assert "exec.board (viewer) may not" in refused.json()["detail"]
    page = tab.open("/governance")
    assert page.locator("[data-testid^=approve-]").count() == 0

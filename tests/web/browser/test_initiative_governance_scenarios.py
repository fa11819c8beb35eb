"""The initiative, governance and scenarios pages in a real browser: headline numbers are the
JSON reports' (asked in the same browser session), charts are drawn, htmx swaps in another
gate's checklist and a scenario's result, the governance role approves a pending move, and a
viewer sees no button and is refused (403) if it posts anyway."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.web.browser.conftest import PHONE, Browsing, LiveServer

pytestmark = pytest.mark.slow


def _money(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def test_the_initiative_page_shows_the_reports_numbers(browse: Callable[..., Browsing]) -> None:
    tab = browse("exec.board")
    tab.page.click("a[href='/initiatives/refund-agent']")  # from the portfolio's table
    tab.settle()
    tab.screenshot("refund-agent")
    report = tab.api("/api/v1/reports/initiatives/refund-agent")
    shown = tab.figures()
    assert shown["total-cost"] == _money(report["total_cost"])
    assert shown["value"] == _money(report["value"])
    assert shown["value-conservative"] == _money(report["value_low"])
    assert shown["roi"] == _percent(report["roi"])
    assert shown["payback-month"] == report["payback_month"]
    assert shown["override-rate"] == _percent(report["behaviour"]["override_rate"])
    assert tab.page.locator(".chart svg").count() == 3  # J-curve, cost stack, cost per outcome
    gate = tab.api("/api/v1/initiatives/refund-agent/gate?to_stage=production")
    assert shown["gate-outcome"] == gate["decision"]

    tab.page.select_option("select[name=to]", "retired")  # htmx swaps in that gate's checklist
    tab.page.wait_for_selector("#gate:has-text('To retired')")
    retire = tab.api("/api/v1/initiatives/refund-agent/gate?to_stage=retired")
    assert tab.figures()["gate-outcome"] == retire["decision"].replace("_", " ")
    tab.screenshot("refund-agent-retire-gate")


def test_the_initiative_page_on_a_phone(browse: Callable[..., Browsing]) -> None:
    tab = browse("exec.board", PHONE)
    tab.open("/initiatives/loc-qa")
    assert tab.figures()["validated"] == "yes"
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_governance_approves_a_pending_move(
    browse: Callable[..., Browsing], own_server: LiveServer
) -> None:
    tab = browse("grace.okafor", server=own_server)
    tab.open("/governance")
    pending = tab.api("/api/v1/approvals?status=pending")
    assert tab.figures()["pending-approvals"] == str(len(pending)) == "1"
    tab.page.fill("tr[data-approval='1'] input[name=note]", "risk committee ok")
    tab.page.click("[data-testid=approve-1]")
    tab.page.wait_for_selector("[data-testid=decision-message]")
    tab.screenshot("governance-approved")
    shown = tab.figures()
    assert shown["decision-message"] == "Approved: fraud-detection moved from poc to mvp."
    assert shown["pending-approvals"] == "0"
    assert tab.api("/api/v1/initiatives/fraud-detection")["stage"] == "mvp"


def test_a_viewer_sees_no_decision_and_is_refused(
    browse: Callable[..., Browsing], live_server: LiveServer
) -> None:
    tab = browse("exec.board")
    tab.open("/governance")
    assert tab.page.locator("[data-testid^=approve-]").count() == 0
    assert tab.page.locator("[data-testid^=reject-]").count() == 0
    csrf = tab.page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))")
    # posted with the session and its CSRF token, as htmx would, outside the page
    answer = tab.page.request.post(
        live_server.url + "/governance/approvals/1/approve", headers=csrf, form={"note": "ok"}
    )
    assert answer.status == 403
    assert "may not approve or reject stage moves" in answer.json()["detail"]
    assert [a["id"] for a in tab.api("/api/v1/approvals?status=pending")] == [1]


def test_a_scenario_is_run_and_saved(
    browse: Callable[..., Browsing], own_server: LiveServer
) -> None:
    tab = browse("lena.fischer", server=own_server)
    tab.open("/scenarios")
    tab.page.select_option("select[name=initiative]", "code-review")
    tab.page.fill("input[name=volume]", "100000/day")
    tab.page.click("#scenario-form button[type=submit]")
    tab.page.wait_for_selector("[data-testid=inference-cost]")
    tab.settle()
    tab.screenshot("scenario-run")
    # 3,000 calls in 2026-06 cost 225.00; 100,000 a day is 3,000,000 in 30 days: x1,000
    assert tab.figures()["inference-cost"] == "225,000.00"
    assert tab.page.locator("#scenario-result .chart svg").count() == 1
    tab.page.fill("form.save input[name=name]", "at-scale")
    tab.page.click("form.save button[type=submit]")
    tab.page.wait_for_selector("[data-testid=saved-message]")
    assert tab.figures()["saved-message"] == "Saved at-scale: code-review, volume 100000/day."
    tab.screenshot("scenario-saved")


def test_the_scenarios_page_on_a_phone(browse: Callable[..., Browsing]) -> None:
    tab = browse("exec.board", PHONE)
    tab.open("/scenarios?initiative=code-review&model=claude-haiku-4-5")
    assert "save" not in tab.page.locator("#scenario-result").inner_text().lower()
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

"""Signing in through the form, in a real browser, opens the portfolio with the report's
numbers; a stranger is sent to sign in first."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import DEMO_TOTAL
from tests.web.browser.conftest import Browsing, LiveServer

pytestmark = pytest.mark.slow


def test_signing_in_opens_the_portfolio_with_the_reports_numbers(
    browse: Callable[..., Browsing],
) -> None:
    tab = browse("exec.board")
    shown = tab.figures()
    report = tab.api("/api/v1/reports/portfolio")
    assert Decimal(report["total_cost"]) == DEMO_TOTAL
    assert shown["total-cost"] == "3,538,738.60"
    assert shown["unallocated-cost"] == f"{Decimal(report['unallocated_cost']):,.2f}"
    assert shown["attribution-coverage"] == f"{report['attribution_coverage'] * 100:.1f}%"
    assert shown["signed-in-as"] == "exec.board (viewer)"


def test_a_stranger_is_sent_to_sign_in(chromium: Any, live_server: LiveServer) -> None:
    page = chromium.new_page()
    page.goto(live_server.url + "/portfolio?period=2026")
    assert page.url == live_server.url + "/login?next=/portfolio%3Fperiod%3D2026"
    page.close()


def test_after_sign_in_the_script_opens_only_a_page_of_this_server(
    chromium: Any, live_server: LiveServer
) -> None:
    """The form's ``data-next`` is checked by the server too; the script checks it again, as
    the browser resolves it: ``/\\host`` and ``/<tab>/host`` are other hosts."""
    page = chromium.new_page()
    page.goto(live_server.url + "/login")
    opened = {
        asked: page.evaluate("(next) => safeNext(next)", asked)
        for asked in ("/\\evil.example", "/\t/evil.example", "//evil.example", "https://x.example/")
    }
    assert set(opened.values()) == {"/portfolio"}, opened
    assert page.evaluate("safeNext('/costs?period=2026#top')") == "/costs?period=2026#top"
    page.close()


def test_a_refused_htmx_request_says_why_where_it_was_to_go(
    browse: Callable[..., Browsing],
) -> None:
    tab = browse("exec.board")
    tab.page.evaluate("htmx.ajax('GET', '/portfolio?period=bogus', {target: 'main'})")
    said = tab.page.wait_for_selector("main > p.htmx-error[role=alert]")
    assert said.text_content() == "The period cannot be read."
    assert tab.page.locator("[data-testid=total-cost]").count() == 1  # the page stays
    # the refusal itself is what the tab saw go wrong, and nothing else
    assert all("422" in error or "responseError" in error for error in tab.errors), tab.errors
    tab.errors.clear()

"""The dashboard's pages: sign-in, and the portfolio's headline numbers, which are the JSON
report's as the table renderer shows them."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import DEMO_TOTAL
from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in


def test_a_page_asks_a_stranger_to_sign_in_first(served: Served) -> None:
    answer = served.anonymous.get("/portfolio?period=2026", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/portfolio%3Fperiod%3D2026"
    sign_in = served.anonymous.get("/login?next=/costs")
    assert 'data-next="/costs"' in sign_in.text
    assert served.anonymous.get("/", follow_redirects=False).headers["location"] == "/portfolio"


def test_sign_in_opens_only_a_page_of_this_server(served: Served) -> None:
    """A browser reads ``/\\host`` as ``//host`` and drops a tab: both name another host."""
    elsewhere = [
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",  # a tab
        "/%0a/evil.example",
        "https://evil.example/portfolio",
        "javascript:alert(1)",
        "portfolio",
    ]
    for asked in elsewhere:
        page = served.anonymous.get(f"/login?next={asked}").text
        assert 'data-next="/portfolio"' in page, asked
    kept = served.anonymous.get("/login?next=/initiatives/loc-qa%3Fperiod%3D2026").text
    assert 'data-next="/initiatives/loc-qa?period=2026"' in kept


def test_the_portfolio_shows_the_reports_numbers(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    shown = figures(browser.get("/portfolio").text)
    report = served("exec.board").get("/api/v1/reports/portfolio").json()
    assert Decimal(report["total_cost"]) == DEMO_TOTAL
    assert shown["total-cost"] == "3,538,738.60"
    assert shown["unallocated-cost"] == f"{Decimal(report['unallocated_cost']):,.2f}"
    assert shown["validated-cost"] == f"{Decimal(report['validated_cost']):,.2f}"
    assert shown["attribution-coverage"] == f"{report['attribution_coverage'] * 100:.1f}%"
    assert shown["signed-in-as"] == "exec.board (viewer)"


def test_assets_are_served_here_and_kept_a_day(served: Served) -> None:
    assets = {"app.css": "text/css", "app.js": "text/javascript", "htmx.min.js": "text/javascript"}
    for name, kind in assets.items():
        answer = served.anonymous.get(f"/static/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(kind)
        assert "max-age=86400" in answer.headers["cache-control"]
    assert served.anonymous.get("/static/pages.py").status_code == 404
    assert served.anonymous.get("/static/..%2Fapp.js").status_code == 404


def test_only_the_pages_assets_are_served_and_kept(served: Served) -> None:
    """A name asked for that is not an asset is not found, and not remembered: the cache
    holds the assets alone, whatever strangers ask for."""
    from valuegap.web.pages import assets

    for n in range(50):
        assert served.anonymous.get(f"/static/missing-{n}.js").status_code == 404
    assert served.anonymous.get("/static/app.js").status_code == 200
    assert served.anonymous.get("/static/vega.css").status_code == 200
    names = assets.served_names()
    assert {"app.js", "app.css", "htmx.min.js", "favicon.svg", "vega.js", "vega.css"} <= names
    assert assets._asset.cache_info().currsize <= len(names)


def test_a_page_asked_for_a_period_it_cannot_take_says_so_in_a_page(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    refused = {
        "/portfolio?period=bogus": ("The period cannot be read.", "period"),
        "/portfolio?period=9999": ("The period is out of range.", "period"),
        "/costs?period=9999-12": ("The period is out of range.", "period"),
        "/initiatives/loc-qa?period=1899-Q4": ("The period is out of range.", "period"),
        "/adoption?on=9999-12-31": ("The report date is out of range.", "on"),
        "/adoption?on=0001-01-01": ("The report date is out of range.", "on"),
        "/adoption?on=yesterday": ("The address asks for something this page cannot", "on"),
    }
    for asked, (summary, field) in refused.items():
        answer = browser.get(asked)
        assert answer.status_code == 422, asked
        assert answer.headers["content-type"].startswith("text/html"), asked
        assert summary in answer.text, asked
        assert f"<code>{field}</code>" in answer.text, asked
        assert f'<a href="{asked.split("?")[0]}">' in answer.text, asked
        assert 'data-testid="signed-in-as"' in answer.text  # the layout, navigation and all
    # htmx asks for a part of a page: its script shows the problem's detail
    htmx = browser.get("/portfolio?period=bogus", headers={"HX-Request": "true"})
    assert htmx.headers["content-type"] == "application/problem+json"


def test_the_api_refuses_days_out_of_range_naming_the_field(served: Served) -> None:
    api = served("exec.board")
    for asked, field in {
        "/api/v1/reports/portfolio?period=9999": "period",
        "/api/v1/reports/portfolio?period=9999-12": "period",
        "/api/v1/reports/portfolio?to=9999-12": "to",
        "/api/v1/statements/risk?period=9999-12": "period",
        "/api/v1/reports/adoption?on=9999-12-31": "on",
        "/api/v1/reports/conviction?on=0001-01-01": "on",
    }.items():
        answer = api.get(asked)
        assert answer.status_code == 422, asked
        assert [e["where"] for e in answer.json()["errors"]] == [field], asked
    # the bounds' own years are asked about as any other
    assert api.get("/api/v1/reports/portfolio?period=8999-12").status_code == 200
    assert api.get("/api/v1/reports/portfolio?period=1900").status_code == 200


def test_an_htmx_request_after_the_session_ended_opens_the_sign_in_page(served: Served) -> None:
    """Not a redirect, which htmx would follow and swap the sign-in page into a panel: the
    window goes to sign in, and comes back to the page it showed."""
    answer = served.anonymous.get(
        "/scenarios/run?initiative=loc-qa",
        headers={"HX-Request": "true", "HX-Current-URL": "http://x/scenarios?saved=cheap"},
        follow_redirects=False,
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=/scenarios%3Fsaved%3Dcheap"


def test_a_page_made_once_between_writes_shows_the_next_write(served: Served) -> None:
    # The portfolio and costs pages are kept until the next write: a cost loaded meanwhile
    # (here by another handle on the ledger) shows on the next view.
    browser = signed_in(served, "finn.berg")
    assert figures(browser.get("/portfolio").text)["total-cost"] == "3,538,738.60"
    assert "3,538,738.60" in browser.get("/costs").text
    manual = (
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2026-06-01,2026-07-01,data,1250,USD,code-review,,Labelled review comments\n"
    )
    served.ledger.costs.ingest_costs(manual.encode(), source_name="june.csv")
    assert figures(browser.get("/portfolio").text)["total-cost"] == "3,539,988.60"
    assert "3,539,988.60" in browser.get("/costs").text


def test_the_costs_page_for_a_day_asked_for_is_not_the_first_views(served: Served) -> None:
    """The page as first shown is kept between writes; a day asked for (even today) is made
    for that request alone: neither takes the other's day, and what visitors ask for is not
    kept."""
    browser = signed_in(served, "finn.berg")
    today = served.ledger.session.now().date()
    asked = browser.get(f"/costs?on={today}").text
    assert 'data-testid="as-of-note"' not in asked  # the day asked for, not pinned
    first = browser.get("/costs").text
    assert 'data-testid="as-of-note"' in first  # the demo's latest month with cost is over
    kept = served.ledger.session.db._writer.cache._values
    assert [key for key in kept if "costs page" in str(key)] != []
    browser.get("/costs?period=2025-Q3")
    browser.get("/costs?on=2025-06-30")
    assert len([key for key in kept if "costs page" in str(key)]) == 1

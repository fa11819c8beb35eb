"""The initiative page: its headline numbers are the JSON report's as a table shows them, and
its gate checklist, review, stage history and audit trail are those the API gives."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in


def money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def test_the_headline_is_the_reports(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/initiatives/loc-qa")
    assert page.status_code == 200
    shown = figures(page.text)
    report = served("exec.board").get("/api/v1/reports/initiatives/loc-qa").json()
    assert shown["total-cost"] == money(report["total_cost"])
    assert shown["value"] == money(report["value"])
    assert shown["value-low"] == shown["value-conservative"] == money(report["value_low"])
    assert shown["value-high"] == money(report["value_high"])
    assert shown["payback-month"] == report["payback_month"]
    assert shown["validated"] == "yes"
    # the demo's loc-qa, by hand: data 3,800 + development 414,000 + infrastructure 90,752.88
    assert shown["total-cost"] == "508,552.88"
    # ROI = (value - cost) / cost = (601,800 - 508,552.88) / 508,552.88 = 0.1834
    assert shown["value"] == "601,800.00"
    assert shown["roi"] == "18.3%"
    # conservative, from the interval's lower bound: (494,276.07 - 508,552.88) / 508,552.88
    assert shown["roi-conservative"] == "-2.8%"


def test_metrics_say_why_they_are_not_validated(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/initiatives/loc-qa").text
    # the secondary metric has no measurement; the primary one shows its effect's interval
    assert "nothing was measured in the period" in page
    assert "122.8 to 187.2" in page  # QA hours saved a month, 95 % interval
    assert "drift-accuracy" in page  # 95 % at the PoC, 72 % now: drifted


def test_the_charts_are_vega_lite_specs(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/initiatives/refund-agent").text
    specs = [json.loads(_unescape(s)) for s in re.findall(r'data-spec="([^"]+)"', page)]
    labels = re.findall(r'class="chart" role="img" aria-label="([^"]+)"', page)
    assert labels == [
        "J-curve: actual cumulative net value against the expected band",
        "Cost by category and month",
        "Cost per successful outcome by month",
    ]
    # Drawn as wide as their place, each title said once: by the page, not again by the chart.
    assert all(spec["width"] == "container" for spec in specs)
    assert "J-curve: refund-agent" not in [_title(spec) for spec in specs if "title" in spec]
    assert all("vega-lite" in spec["$schema"] for spec in specs)
    report = served("exec.board").get("/api/v1/reports/initiatives/refund-agent").json()
    shown = figures(page)
    assert shown["override-rate"] == f"{report['behaviour']['override_rate'] * 100:.1f}%"
    assert shown["cost-per-outcome"] == money(report["outcomes"]["cost_per_outcome"])


def test_the_gate_checklist_is_gate_checks(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    page = browser.get("/initiatives/refund-agent").text
    check = served("exec.board").get(
        "/api/v1/initiatives/refund-agent/gate", params={"to_stage": "production"}
    )
    assert figures(page)["gate-outcome"] == check.json()["decision"] == "deny"
    for rule in check.json()["details"]:
        assert rule["id"] in page
    # another move, as htmx asks for it: only the checklist comes back
    retire = browser.get("/initiatives/refund-agent/gate", params={"to": "retired"})
    assert retire.status_code == 200
    assert "<html" not in retire.text
    assert 'id="gate"' in retire.text
    assert "To retired:" in retire.text


def test_a_move_that_is_never_possible_says_why(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/initiatives/emotion-monitoring").text
    assert "cannot move" in page
    assert "prohibited" in page


def test_review_history_and_audit(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    page = browser.get("/initiatives/meeting-summariser").text
    shown = figures(page)
    reviews = served("exec.board").get("/api/v1/reviews?initiative=meeting-summariser").json()
    assert shown["review-recommendation"] == reviews[-1]["recommendation"] == "kill"
    detail = served("exec.board").get("/api/v1/initiatives/meeting-summariser").json()
    moves = [f"{e['from_stage'] or 'new'} → {e['to_stage']}" for e in detail["stage_history"]]
    assert moves[-1] == "mvp → retired"
    for move in moves:
        assert move in page
    audit = served("exec.board").get("/api/v1/audit?entity=meeting-summariser&limit=1000").json()
    first_page = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>\s*<td>\d{4}-', page)]
    assert first_page == [entry["seq"] for entry in audit[:20]]


def test_the_audit_trail_pages_back_with_htmx(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    audit = served("exec.board").get("/api/v1/audit?entity=refund-agent&limit=1000").json()
    older = browser.get(f"/initiatives/refund-agent/audit?before={audit[0]['seq']}")
    assert older.status_code == 200
    assert "<html" not in older.text
    rows = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', older.text)]
    assert rows == [entry["seq"] for entry in audit[1:21]]


def test_another_units_initiative_is_not_found_for_a_contributor(served: Served) -> None:
    ana = signed_in(served, "ana.costa")  # a contributor in marketing
    assert ana.get("/initiatives/loc-qa").status_code == 200
    for path in ("/initiatives/refund-agent", "/initiatives/refund-agent/audit?before=99"):
        answer = ana.get(path)
        assert answer.status_code == 404
        assert "refund-agent" in answer.text
    # In a page's words, with the way back: no Python call named.
    missing = ana.get("/initiatives/refund-agent").text
    assert "There is no initiative &#39;refund-agent&#39; that you may see." in missing
    assert "Ledger." not in missing and "initiatives()" not in missing
    assert '<a href="/portfolio">' in missing
    assert signed_in(served, "exec.board").get("/initiatives/nothing-here").status_code == 404


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _title(spec: dict[str, object]) -> str:
    title = spec["title"]
    return title if isinstance(title, str) else str(title["text"])  # type: ignore[index]


def test_numbers_and_months_read_as_everywhere_else_in_the_app(served: Served) -> None:
    from valuegap.decimals import significant

    # An interval of 4,771 to 14,230 reads so, never as 1.423e+04.
    assert (significant(14230.4), significant(4771.2), significant(0.031249)) == (
        "14,230",
        "4,771",
        "0.03125",
    )
    browser = signed_in(served, "exec.board")
    for initiative in ("fraud-detection", "refund-agent", "code-review", "loc-qa"):
        page = browser.get(f"/initiatives/{initiative}").text
        assert not re.search(r"\d\.\d+e[+-]\d", page), initiative
    # refund-agent's value is counted (direct), its bounds equal: it says so, not
    # "462,000.00 to 462,000.00"; its behaviour's periods are months, 2025-07.
    page = browser.get("/initiatives/refund-agent").text
    assert "462,000.00 to 462,000.00" not in page
    assert figures(page)["value-exact"] == "exact, no spread: counted, not estimated"
    assert re.search(r'<tr><td class="nowrap">2025-\d\d</td><td class="num">', page)
    assert not re.search(r"<tr><td[^>]*>2025-\d\d-01</td>", page)

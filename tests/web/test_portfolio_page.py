"""The portfolio page's value and ROI, its charts and its initiatives grouped by stage."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

from tests.conftest import DEMO_TOTAL
from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in


def test_initiatives_are_grouped_by_stage_furthest_along_first(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/portfolio").text
    groups = re.findall(r'scope="rowgroup">(\w+) <span class="count">(\d+)</span>', page)
    # the demo: doc-classifier scaled, loc-qa in production, product-recs and refund-agent
    # in the MVP, code-review and fraud-detection in the PoC, two proposed, one retired
    assert groups == [
        ("Scaled", "1"),
        ("Production", "1"),
        ("MVP", "2"),
        ("PoC", "2"),
        ("Proposed", "2"),
        ("Retired", "1"),
    ]
    report = served("exec.board").get("/api/v1/reports/portfolio").json()
    links = re.findall(r'<a href="/initiatives/([\w-]+)">', page)
    assert sorted(links) == sorted(line["id"] for line in report["initiatives"])


def test_the_coverage_trend_and_the_jcurve_are_charted(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/portfolio").text
    specs = [json.loads(html.unescape(s)) for s in re.findall(r'data-spec="([^"]+)"', page)]
    # Each under its panel's heading, whose title the chart does not repeat: it keeps the
    # line that says how to read it.
    assert [spec["title"]["text"][:24] for spec in specs] == [
        "Cost of initiatives with",
        "Actual against the busin",
    ]
    assert all(spec["width"] == "container" for spec in specs)
    shown = figures(page)
    # the demo's first months are the PoCs', before any outcome was validated
    assert shown["coverage-first"] == "0.0%"
    assert shown["jcurve-status"] == "ahead"


def test_the_value_and_roi_are_the_value_reports(served: Served) -> None:
    shown = figures(signed_in(served, "exec.board").get("/portfolio").text)
    value = served("exec.board").get("/api/v1/reports/value").json()
    point, low, cost = (Decimal(value[k]) for k in ("value", "value_low", "total_cost"))
    assert cost == DEMO_TOTAL
    assert low < point
    assert shown["value"] == f"{point:,.2f}"
    assert shown["value-conservative"] == f"{low:,.2f}"
    # ROI on all AI spend, unallocated included: (value - cost) / cost
    assert shown["roi"] == f"{(point - cost) / cost * 100:.1f}%"
    assert shown["roi-conservative"] == f"{(low - cost) / cost * 100:.1f}%"


def test_the_coverage_change_is_in_signed_points_as_the_executive_report_says_it(
    served: Served,
) -> None:
    page = signed_in(served, "exec.board").get("/portfolio?period=2025-Q4").text
    report = served("exec.board").get("/api/v1/reports/portfolio?period=2025-Q4").json()
    # the demo's coverage went from 90.43% in 2025-Q3 to 93.02%: up 2.59 points
    assert report["coverage_change"] == 0.0259
    assert "+2.6 points on the period before" in page


def test_a_retired_initiative_has_no_live_jcurve_status(served: Served) -> None:
    # meeting-summariser was retired in the dip its business case named: the portfolio page
    # says retired, not "in expected dip" (the J-curve report keeps the status it had then).
    page = signed_in(served, "exec.board").get("/portfolio").text
    row = page[page.index('<a href="/initiatives/meeting-summariser">') :]
    row = row[: row.index("</tr>")]
    assert '<span class="status retired">retired</span>' in row
    assert "in expected dip" not in row

"""The adoption page shows the disclosed groups of the adoption and conviction reports, and
nothing finer: the ladder heatmap and the conviction distance of each group."""

from __future__ import annotations

import re

from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in


def test_the_adoption_page_shows_the_reports_groups(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/adoption")
    assert page.status_code == 200
    shown = figures(page.text)
    api = served("exec.board")
    ladder = api.get("/api/v1/reports/adoption").json()
    conviction = api.get("/api/v1/reports/conviction").json()
    # The demo: 511 people in 12 teams, shown as 17 groups of at least 5 (marketing takes in
    # a unit too small to show on its own).
    assert shown["groups"] == "17" == str(len(ladder["groups"]))
    assert shown["people"] == "511" == str(sum(group["people"] for group in ladder["groups"]))
    assert shown["report-date"] == ladder["on"]
    for group in conviction["groups"]:
        distance = group["distance"]
        expected = "" if distance is None else f"{distance * 100:.1f}%"
        assert shown[f"distance-{group['group']}"] == expected
    assert shown["distance-commerce"] == "-35.0%"  # 65 % confident, 100 % realised
    assert 'class="chart"' in page.text


def test_the_ladder_table_has_one_row_per_disclosed_group(served: Served) -> None:
    page = signed_in(served, "lena.fischer").get("/adoption").text
    ladder = served("lena.fischer").get("/api/v1/reports/adoption").json()
    table = page[
        page.index('data-testid="ladder"') : page.index(
            "</table>", page.index('data-testid="ladder"')
        )
    ]
    rows = re.findall(r"<tr>\s*<td>([^<]+)", table)
    assert rows == [group["group"] for group in ladder["groups"]]
    assert "includes 1 unit too small to show on its own" in table


def test_the_ladder_shows_all_seven_rungs_in_order(served: Served) -> None:
    # The README's seven rungs, each a column whether anyone stands on it or not; a group on
    # measured outcome has reached workflow integration and it, a group below neither.
    page = signed_in(served, "lena.fischer").get("/adoption").text
    table = page[page.index('data-testid="ladder"') :]
    header = re.findall(r'<th class="num">([^<]+)</th>', table[: table.index("</thead>")])
    assert header[2:] == [
        "access",
        "awareness",
        "training",
        "experimentation",
        "regular use",
        "workflow integration",
        "measured outcome",
    ]
    ladder = served("lena.fischer").get("/api/v1/reports/adoption").json()
    for group in ladder["groups"]:
        row = table[table.index(f"<td>{group['group']}") :]
        cells = re.findall(r'<td class="num">([^<]*)</td>', row[: row.index("</tr>")])
        integrated = group["rung"] in ("workflow_integration", "measured_outcome")
        measured = group["rung"] == "measured_outcome"
        assert cells[-2:] == [
            "reached" if integrated else "not yet",
            "reached" if measured else "not yet",
        ]

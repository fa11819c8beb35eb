"""``valuegap report executive``: the PDF opens and shows its charts, the HTML's headline
numbers are the portfolio report's, the list is what the reviews recommended."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.decimals import money, percent
from valuegap.outcomes.periods import parse_period
from valuegap.results import to_data

QUARTER = "2026-Q2"  # the demo's latest quarter with cost: the report's default
COVERAGE = "attribution-coverage"
DARK_BLUE = (0x1F, 0x4E, 0x79)  # the actual line and the coverage line


def near(colour: tuple[int, int, int], to: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(colour, to, strict=True))


def executive(demo: Path, *args: str) -> str:
    result = CliRunner().invoke(
        app, ["report", "executive", *args, "--db", str(demo), "--as", "you"]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_the_pdf_opens_and_its_first_page_shows_the_charts(demo: Path, tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    pdf = tmp_path / "executive.pdf"
    executive(demo, "--format", "pdf", "-o", str(pdf))
    document = pdfium.PdfDocument(str(pdf))
    pages = len(document)
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=2).to_pil().convert("RGB")
    document.close()
    assert 1 <= pages <= 3
    assert "AI value: executive report" in text
    assert "April 2026 to June 2026" in text
    width, height = image.size  # A4 at 144 dpi
    # The first page: headline boxes in its top third, then the coverage trend, then the
    # portfolio J-curve; each chart region has its line drawn in dark blue.
    coverage = image.crop((0, int(height * 0.33), width, int(height * 0.62)))
    jcurve = image.crop((0, int(height * 0.62), width, height))
    for region in (coverage, jcurve):
        colours = region.getcolors(maxcolors=region.width * region.height) or []
        drawn = sum(n for n, c in colours if c != (255, 255, 255))
        blue = sum(n for n, c in colours if near(c, DARK_BLUE))
        assert drawn > region.width * region.height // 20  # not blank
        assert blue > 100  # the line itself


def test_the_html_headline_is_the_portfolio_reports_and_loads_nothing(demo: Path) -> None:
    page = executive(demo, "--format", "html")
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        portfolio = to_data(ledger.outcomes.portfolio_report(parse_period(QUARTER)))

    def shown(test_id: str) -> str:
        found = re.search(rf'data-testid="{test_id}">([^<]*)<', page)
        assert found, test_id
        return found.group(1)

    currency = portfolio["currency"]
    assert shown("total-cost") == f"{money(Decimal(portfolio['total_cost']), currency)} USD"
    assert shown("unallocated-cost") == (
        f"{money(Decimal(portfolio['unallocated_cost']), currency)} USD"
    )
    assert shown("attribution-coverage") == percent(Decimal(str(portfolio["attribution_coverage"])))
    # the value's point estimate is the sum of the initiatives' values
    value = sum(Decimal(i["value"]) for i in portfolio["initiatives"])
    assert shown("value") == f"{money(value, currency)} USD"
    # self-contained: the charts inline, nothing fetched from anywhere
    assert page.count("<svg") >= 3
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page


def test_the_list_is_the_latest_reviews_and_the_rest_not_reviewed(demo: Path) -> None:
    report = json.loads(executive(demo, "--format", "json"))
    actions = {a["id"]: a for a in report["actions"]}
    # the demo's reviews of September 2025: two to scale; the one to kill was retired before
    # the quarter, so it is not listed
    assert actions["loc-qa"]["action"] == "scale"
    assert actions["loc-qa"]["reviewed_on"] == "2025-09-09"
    assert actions["doc-classifier"]["action"] == "scale"
    assert "meeting-summariser" not in actions
    assert actions["code-review"]["action"] == "not_reviewed"
    assert actions["code-review"]["jcurve_status"] == "behind"
    # the J-curves shown beside the portfolio's: the one behind its business case first
    assert report["jcurves"][0]["initiative"] == "code-review"
    assert report["period"] == {"from": "2026-04-01", "to": "2026-07-01"}


def test_an_initiative_retired_in_the_period_is_listed_with_its_recommendation(
    demo: Path,
) -> None:
    # The demo's meeting summariser: reviewed on 2025-09-09 (kill), retired on 2025-09-13,
    # inside 2025-Q3; 2025-Q4 starts after it was retired.
    third = json.loads(executive(demo, "--format", "json", "--period", "2025-Q3"))
    actions = {a["id"]: a for a in third["actions"]}
    summariser = actions["meeting-summariser"]
    assert (summariser["action"], summariser["reviewed_on"], summariser["retired_on"]) == (
        "kill",
        "2025-09-09",
        "2025-09-13",
    )
    assert actions["loc-qa"]["retired_on"] is None
    fourth = json.loads(executive(demo, "--format", "json", "--period", "2025-Q4"))
    assert "meeting-summariser" not in {a["id"] for a in fourth["actions"]}
    page = executive(demo, "--format", "html", "--period", "2025-Q3")
    row = re.search(
        r"<tr>\s*<td>[^<]*<div class=\"muted\">[^<]*</div></td>\s*<td>"
        r"<span class=\"action kill\">Kill</span>(.*?)</td>",
        page,
        re.S,
    )
    assert row is not None
    assert re.findall(r"<div class=\"muted\">([^<]*)</div>", row.group(1)) == [
        "2025-09-09",
        "retired on 2025-09-13",
    ]
    note = re.search(r'<p class="muted" id="actions-note">([^<]*)</p>', page)
    assert note is not None and "retired in the period is listed" in note.group(1)


def test_a_pdf_needs_a_file(demo: Path) -> None:
    result = CliRunner().invoke(app, ["report", "executive", "--db", str(demo), "--as", "you"])
    assert result.exit_code != 0
    assert "--output" in result.output


def test_the_coverage_change_is_in_signed_points_rounded_as_tables_round(demo: Path) -> None:
    """A change of 0.1235 is 12.35 points: 12.4 to one decimal, half to even (as the table's
    12.4%), where the float formatting said 12.3."""
    from dataclasses import replace

    from valuegap.charts.executive import executive_report, figures

    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        report = executive_report(ledger, parse_period(QUARTER))
    headline = replace(report.headline, coverage_change=0.1235)
    [coverage] = [f for f in figures(replace(report, headline=headline)) if f.key == COVERAGE]
    assert coverage.note.startswith("+12.4 points on the period before")
    fell = replace(report.headline, coverage_change=-0.03)
    [coverage] = [f for f in figures(replace(report, headline=fell)) if f.key == COVERAGE]
    assert coverage.note.startswith("-3.0 points on the period before")


def test_a_ledger_without_cost_reports_the_quarter_of_its_own_clock(ledger: Ledger) -> None:
    """The ledger's clock reads 5 January 2026 (the tests' clock), whatever the machine's
    date: its quarter is 2026-Q1."""
    from datetime import date

    from valuegap.charts.executive import default_window

    window = default_window(ledger)
    assert (window.start, window.end) == (date(2026, 1, 1), date(2026, 4, 1))

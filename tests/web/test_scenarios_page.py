"""The scenarios page: a scenario run through htmx with its J-curve against the baseline,
saved by a role that may change the portfolio (a viewer sees no save form and is refused if
it posts anyway), and the saved ones compared."""

from __future__ import annotations

import html
import re

from tests.web.conftest import Served
from tests.web.pages_client import figures, signed_in
from valuegap.forecast.scenario import ScenarioChanges

# The demo's code review assistant: 3,000 calls to claude-sonnet-4-5 in 2026-06 (100 a day)
# cost 225.00 USD; at 100,000 a day, 3,000,000 in the month's 30 days, a thousand times that.
ASKED = {"initiative": "code-review", "volume": "100000/day"}


def test_a_scenario_runs_as_htmx_asks(served: Served) -> None:
    answer = signed_in(served, "exec.board").get("/scenarios/run", params=ASKED)
    assert answer.status_code == 200
    assert "<html" not in answer.text  # the result alone, for htmx to swap in
    shown = figures(answer.text)
    assert shown["baseline-inference-cost"] == "225.00"
    assert shown["inference-cost"] == "225,000.00"
    assert 'class="chart"' in answer.text  # the J-curve against the baseline
    assert "scenario-error" not in shown


def test_the_page_runs_the_scenario_in_its_address(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/scenarios", params=ASKED).text
    assert figures(page)["inference-cost"] == "225,000.00"
    assert '<option value="code-review" selected>' in page


def test_a_change_people_cannot_read_is_explained(served: Served) -> None:
    browser = signed_in(served, "exec.board")
    answer = browser.get("/scenarios/run", params={**ASKED, "token_price": "cheaper"})
    assert answer.status_code == 200
    assert "token_price" in figures(answer.text)["scenario-error"]
    nothing = browser.get("/scenarios/run")
    assert figures(nothing.text)["scenario-error"] == "Choose an initiative."


def test_saved_scenarios_are_compared_with_their_baseline(served: Served) -> None:
    page = signed_in(served, "exec.board").get("/scenarios").text
    rows = re.findall(r"<td>(code-review)</td><td>([^<]+)</td>", page)
    assert [changes for _, changes in rows] == [
        "baseline",
        "volume 100000/day",
        "model claude-haiku-4-5, volume 100000/day",
    ]
    assert "225,000.00" in page  # the saved code-review-in-production's inference a month


def test_the_comparison_names_a_payback_not_within_the_months_as_the_run_does(
    served: Served,
) -> None:
    # At 100,000 requests a day code review costs 225,000 + 12,000 fixed a month; its business
    # case's value over 36 months, 1,168,970.64, is under 32,500 a month: it never pays back.
    browser = signed_in(served, "exec.board")
    run = browser.get("/scenarios/run", params=ASKED).text
    assert figures(run)["scenario-payback"] == "not within"
    page = browser.get("/scenarios").text
    paybacks = re.findall(
        r"<td>code-review</td><td>([^<]+)</td>.*?data-testid=\"compared-payback\">([^<]*)<",
        page,
        re.S,
    )
    assert paybacks[0][0] == "baseline" and paybacks[0][1].isdigit()  # it does pay back
    assert paybacks[1:] == [
        ("volume 100000/day", "not within"),
        ("model claude-haiku-4-5, volume 100000/day", "not within"),
    ]


def test_the_value_is_said_to_be_the_business_cases_which_volume_does_not_move(
    served: Served,
) -> None:
    browser = signed_in(served, "exec.board")
    shown = figures(browser.get("/scenarios/run", params=ASKED).text)
    assert html.unescape(shown["value-note"]) == (
        "The business case's planned value, which a change of volume, tokens per request, "
        "token price or model does not move: they move cost."
    )
    compared = figures(browser.get("/scenarios").text)["compared-value-note"]
    assert "moves cost, not value" in html.unescape(compared)


def test_a_contributor_saves_a_scenario(served: Served) -> None:
    lena = signed_in(served, "lena.fischer")
    assert 'hx-post="/scenarios/save"' in lena.get("/scenarios", params=ASKED).text
    answer = lena.post("/scenarios/save", data={**ASKED, "token_price": "-50%", "name": "cheap"})
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert figures(answer.text)["saved-message"] == (
        "Saved cheap: code-review, token_price -50%, volume 100000/day."
    )
    saved = served.ledger.outcomes.scenarios.scenarios()
    assert [(s.name, s.saved_by) for s in saved if s.name == "cheap"] == [("cheap", "lena.fischer")]
    bad = lena.post("/scenarios/save", data={**ASKED, "name": "Not A Name"})
    assert html.unescape(figures(bad.text)["saved-error"]) == (
        "The scenario was not saved.\n  - name: must be lower-case letters, digits, '-' and '_' "
        "(up to 64) (found 'Not A Name')"
    )


def test_a_viewer_cannot_save(served: Served) -> None:
    viewer = signed_in(served, "exec.board")
    assert "/scenarios/save" not in viewer.get("/scenarios", params=ASKED).text
    answer = viewer.post("/scenarios/save", data={**ASKED, "name": "mine"})
    assert answer.status_code == 403
    names = [s.name for s in served.ledger.outcomes.scenarios.scenarios()]
    assert "mine" not in names


def test_a_contributor_compares_the_saved_scenarios_of_their_units(served: Served) -> None:
    """The demo's saved scenarios are engineering's code review: marketing's ana.costa has
    none to compare (another unit's is as if it did not exist), and no error."""
    page = signed_in(served, "ana.costa").get("/scenarios").text
    assert "There is no initiative" not in page
    assert "No scenario is saved yet." in page
    assert "code-review" not in page


def test_the_page_compares_the_twenty_newest_saved_scenarios(served: Served) -> None:
    scenarios = served.ledger.outcomes.scenarios
    for n in range(21):  # with the demo's two: 23, of which the 20 newest are computed
        changes = ScenarioChanges.parse(volume=f"{1000 + n}/day")
        scenarios.save_scenario(f"more-{n:02d}", "code-review", changes)
    page = signed_in(served, "exec.board").get("/scenarios").text
    rows = re.findall(r'<td><a href="/scenarios\?saved=([\w-]+)">', page)
    assert len(rows) == 20
    said = " ".join(figures(page)["saved-not-shown"].split())
    assert said.startswith("The 20 newest saved scenarios are compared here; 3 older are not")

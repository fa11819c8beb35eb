"""The chart specs: each draws what its report says, in the agreed marks, and renders."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuegap import Ledger
from valuegap.charts import bundle, render, specs, style
from valuegap.costs.cost_report import CostLine
from valuegap.decimals import percent
from valuegap.outcomes.coverage import CoverageMonth, CoverageTrend
from valuegap.outcomes.jcurve import JCurveMonth, JCurveReport
from valuegap.outcomes.results import Period
from valuegap.outcomes.scenarios import JCurveMonth as ScenarioMonth
from valuegap.outcomes.scenarios import Scenario


def jcurve() -> JCurveReport:
    def month(n: int, expected: str, actual: str | None) -> JCurveMonth:
        exp = Decimal(expected)
        return JCurveMonth(
            month=n,
            calendar_month=f"2026-0{n}",
            adoption=None,
            expected_net=exp,
            expected_cumulative=exp,
            band_low=exp - 100,
            band_high=exp + 100,
            actual_net=None if actual is None else Decimal(actual),
            actual_cumulative=None if actual is None else Decimal(actual),
            status=None if actual is None else "on_track",
        )

    months = [month(1, "-500", "-450"), month(2, "-200", "-150.50"), month(3, "300", None)]
    return JCurveReport(
        initiative="loc-qa",
        currency="USD",
        start="2026-01",
        band=0.2,
        trough_month=1,
        trough_depth=Decimal("-500"),
        payback_month=3,
        latest_month=2,
        status="on_track",
        explanation="",
        months=months,
        initiatives=[],
    )


def layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = spec["layer"]
    return found


def values(spec: dict[str, Any], name: str | None = None) -> list[dict[str, Any]]:
    """The rows a spec draws (Altair keeps inline data in ``datasets``, named)."""
    found: list[dict[str, Any]] = spec["datasets"][name or spec["data"]["name"]]
    return found


def mark(layer: dict[str, Any]) -> dict[str, Any]:
    m = layer["mark"]
    return m if isinstance(m, dict) else {"type": m}


def test_the_jcurve_draws_the_band_as_an_area_actual_with_points_and_expected_dashed() -> None:
    spec = specs.jcurve_chart(jcurve())
    band, expected, actual, _zero = layers(spec)
    assert mark(band)["type"] == "area"
    assert band["encoding"]["y"]["field"] == "band_low"
    assert band["encoding"]["y2"]["field"] == "band_high"
    assert mark(expected)["type"] == "line" and mark(expected)["strokeDash"] == [6, 4]
    assert expected["encoding"]["y"]["field"] == "expected"
    assert mark(actual)["type"] == "line" and mark(actual)["point"] is True
    assert actual["encoding"]["y"]["field"] == "actual"
    rows = values(spec, band["data"]["name"] if "data" in band else None)
    # the third month has no actual yet: drawn for the expected curve, not for the actual
    assert [v["actual"] for v in rows] == [-450.0, -150.5, None]
    assert [v["band_low"] for v in rows] == [-600.0, -300.0, 200.0]
    assert rows[1]["actual_shown"] == "-150.50 USD"
    assert spec["title"]["text"] == "J-curve: loc-qa"
    assert "Cumulative net value (USD)" in str(spec)


def test_the_coverage_trend_is_a_line_of_percentages_from_zero_to_one() -> None:
    trend = CoverageTrend(
        Period(),
        "USD",
        [
            CoverageMonth("2026-01", 0.25, Decimal("1000"), Decimal("250")),
            CoverageMonth("2026-02", 0.5, Decimal("2000"), Decimal("1000")),
        ],
        0.25,
        0.5,
        0.25,
    )
    spec = specs.coverage_trend_chart(trend)
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["encoding"]["y"]["axis"]["format"] == "%"
    rows = values(spec)
    assert [(v["month"], v["coverage"]) for v in rows] == [
        ("2026-01-01", 0.25),
        ("2026-02-01", 0.5),
    ]
    assert rows[1]["validated_shown"] == "1,000.00 USD"


def test_a_charts_percentages_are_the_tables() -> None:
    """12.35% to one decimal, half to even, is 12.4% (the table's); the float 0.1235 is
    0.12349999..., which float formatting shows as 12.3%."""
    trend = CoverageTrend(
        Period(),
        "USD",
        [CoverageMonth("2026-01", 0.1235, Decimal(1000), Decimal("123.5"))],
        0.1235,
        0.1235,
        None,
    )
    [row] = values(specs.coverage_trend_chart(trend))
    assert row["coverage_shown"] == "12.4%"
    assert style.percent(0.1235) == percent(Decimal("0.1235")) == "12.4%"


def cost_line(month: str, category: str, cost: str, unit: str = "risk") -> CostLine:
    return CostLine(
        month=month,
        category=category,
        business_unit=unit,
        cost=Decimal(cost),
        estimated=Decimal(0),
        usage_cost=Decimal(0),
        currency="EUR",
    )


def test_the_cost_stack_sums_lines_of_a_month_and_category() -> None:
    lines = [
        cost_line("2026-01", "data", "10.25", "risk"),
        cost_line("2026-01", "data", "4.75", "ops"),
        cost_line("2026-01", "development", "100"),
    ]
    spec = specs.cost_stack_chart(lines)
    summed = {(v["month"], v["category"]): v["cost"] for v in values(spec)}
    assert summed == {("2026-01-01", "data"): 15.0, ("2026-01-01", "development"): 100.0}
    assert spec["encoding"]["y"]["title"] == "Cost (EUR)"


def test_the_cost_bars_are_largest_first() -> None:
    lines = [cost_line("2026-01", "data", "5", "ops"), cost_line("2026-01", "data", "7", "risk")]
    spec = specs.cost_bar_chart(lines, "business_unit")
    assert [v["name"] for v in values(spec)] == ["risk", "ops"]


def test_a_spec_renders_to_svg_png_and_pdf() -> None:
    spec = specs.jcurve_chart(jcurve())
    svg = render.to_svg(spec)
    assert svg.startswith("<svg") and "J-curve: loc-qa" in svg
    assert render.to_png(spec).startswith(b"\x89PNG")
    assert render.to_pdf(spec).startswith(b"%PDF")


def test_the_browser_bundle_sets_vega_embed_on_the_window_and_is_made_once() -> None:
    first = bundle.javascript()
    assert "window.vegaEmbed" in first
    assert bundle.javascript() is first


def test_every_chart_of_the_demo_is_valid_vega_lite(demo: Path) -> None:
    # The specs are made without Altair's check (40 ms a chart, on every page): checked here.
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema import core

    schema = core.load_schema()
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        outcomes, costs = ledger.outcomes, ledger.costs
        made = [
            specs.jcurve_chart(outcomes.portfolio_jcurve()),
            specs.jcurve_chart(outcomes.jcurve("loc-qa")),
            specs.coverage_trend_chart(outcomes.coverage_trend()),
            specs.cost_stack_chart(costs.cost_report(["category", "month"])),
            specs.cost_bar_chart(costs.cost_report(["business_unit"]), "business_unit"),
            specs.cost_per_outcome_chart(outcomes.initiative_report("loc-qa").outcomes, "USD"),
            specs.ladder_heatmap(ledger.adoption.adoption_report()),
            specs.spend_forecast_chart(costs.spend.forecast(["business_unit"])),
            specs.scenario_chart(outcomes.scenarios.saved_scenario("code-review-in-production")),
        ]
    for spec in made:
        validate_jsonschema(spec, schema)


def _group(name: str, rung: str, reaching: list[float]) -> Any:
    from valuegap.adoption.reports import GroupLadder

    people = dict(zip(specs.PERSON_RUNGS, reaching, strict=True))
    return GroupLadder(
        group=name,
        people=20,
        includes=None,
        licensed=20,
        rung=rung,
        **{f"share_{r}": None for r in specs.PERSON_RUNGS},
        **{f"reaching_{r}": share for r, share in people.items()},
        process_ai_share=None,
        sops_updated=rung in specs.GROUP_RUNGS,
        validated_outcome=rung == "measured_outcome",
        largest_drop=None,
        largest_drop_fall=None,
    )


def test_the_ladder_heatmap_has_all_seven_rungs_in_order() -> None:
    from datetime import date

    from valuegap.adoption.reports import AdoptionReport

    # Finance stands on measured outcome (the top rung, so workflow integration too), sales on
    # regular use: the two group rungs are reached by finance, not yet by sales.
    groups = [
        _group("finance", "measured_outcome", [1, 1, 0.9, 0.8, 0.6]),
        _group("sales", "regular_use", [1, 0.8, 0.6, 0.5, 0.35]),
    ]
    report = AdoptionReport(date(2026, 6, 30), 5, None, None, None, groups)
    spec = specs.ladder_heatmap(report)
    seven = [
        "access",
        "awareness",
        "training",
        "experimentation",
        "regular use",
        "workflow integration",
        "measured outcome",
    ]
    assert layers(spec)[0]["encoding"]["x"]["scale"]["domain"] == seven
    cells = {(r["group"], r["rung"]): r["shown"] for r in values(spec)}
    assert len(cells) == 14
    assert cells[("finance", "measured outcome")] == "reached"
    assert cells[("finance", "workflow integration")] == "reached"
    assert cells[("sales", "workflow integration")] == "not yet"
    assert cells[("sales", "regular use")] == "35.0%"


def _forecast(planned: Decimal | None) -> Any:
    from datetime import date

    from valuegap.costs.spend_results import ForecastLine, SpendForecast

    line = ForecastLine(
        initiative="loc-qa",
        spent=Decimal(100),
        manual=Decimal(0),
        forecast=Decimal(300),
        low=Decimal(250),
        high=Decimal(350),
        weekday_rate=Decimal(10),
        weekend_rate=Decimal(5),
        planned=planned,
        status=None,
        currency="USD",
    )
    total = ForecastLine(**{**vars(line), "initiative": None, "planned": None})
    return SpendForecast(
        ["initiative"],
        date(2026, 6, 1),
        date(2026, 7, 1),
        date(2026, 6, 11),
        20,
        "USD",
        [line],
        total,
    )


def test_the_forecast_chart_draws_a_planned_tick_only_where_there_is_a_plan() -> None:
    # Without any plan the layer of planned ticks would have no value at all (Vega warns of
    # an infinite extent): it is left out, and the key does not name it.
    without = specs.spend_forecast_chart(_forecast(None))
    assert [mark(layer)["type"] for layer in layers(without)] == ["bar", "bar", "rule"]
    assert "planned" not in without["title"]["subtitle"]
    planned = specs.spend_forecast_chart(_forecast(Decimal(280)))
    assert [mark(layer)["type"] for layer in layers(planned)] == ["bar", "bar", "rule", "tick"]


def test_a_page_draws_a_chart_as_wide_as_its_place_without_repeating_its_title() -> None:
    spec = specs.jcurve_chart(jcurve())
    drawn = specs.for_page(spec)
    assert drawn["width"] == "container"
    assert drawn["autosize"] == {"type": "fit", "contains": "padding"}
    assert drawn["title"]["text"].startswith("Actual against the business case")
    assert "J-curve" not in str(drawn["title"])
    # The report's picture keeps its fixed size and title.
    assert spec["width"] == 560 and spec["title"]["text"] == "J-curve: loc-qa"
    bars = specs.for_page(specs.cost_bar_chart([], "provider"))
    assert "title" not in bars


def scenario(months: int) -> Scenario:
    """A scenario whose cumulative net values are drawn, month by month: the baseline gains
    100 a month, the scenario loses 100 a month."""
    nothing = Decimal(0)
    return Scenario(
        initiative="code-review",
        name=None,
        changes="volume 100000/day",
        window="2026-06",
        currency="USD",
        requests=Decimal(3000),
        volume_factor=Decimal(1000),
        inference_cost=nothing,
        baseline_inference_cost=nothing,
        fixed_cost=nothing,
        months=months,
        value=None,
        baseline_value=None,
        value_note=None,
        roi=None,
        baseline_roi=None,
        payback_month=None,
        baseline_payback_month=None,
        trough_month=None,
        trough_depth=None,
        baseline_trough_month=None,
        baseline_trough_depth=None,
        models=[],
        jcurve=[
            ScenarioMonth(m, Decimal(100 * m), Decimal(-100 * m)) for m in range(1, months + 1)
        ],
    )


def svg_texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_the_scenario_chart_names_its_curves_and_ends_at_the_last_month() -> None:
    texts = svg_texts(render.to_svg(specs.scenario_chart(scenario(36))))
    assert "Baseline" in texts and "Scenario" in texts  # the legend
    month_axis = texts[: texts.index("Month of the programme")]
    assert month_axis == ["1", "6", "12", "18", "24", "30", "36"]  # no month 40 beyond the data
    short = svg_texts(render.to_svg(specs.scenario_chart(scenario(5))))
    assert short[: short.index("Month of the programme")] == ["1", "2", "3", "4", "5"]

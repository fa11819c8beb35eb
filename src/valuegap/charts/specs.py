"""One Vega-Lite spec per chart, from the typed report the CLI and the API return.

Each function takes a report and returns its chart as a Vega-Lite spec (a ``dict``, built with
Altair, which is imported here only when a chart is made). The same spec is drawn in the
browser by Vega-Embed and rendered for reports by ``charts.render``: one spec, both outputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from valuegap.adoption import ladder
from valuegap.charts import style
from valuegap.charts.style import amount, finish, percent, shown

if TYPE_CHECKING:
    from valuegap.adoption.reports import AdoptionReport, GroupLadder
    from valuegap.costs.cost_report import CostLine
    from valuegap.costs.spend_results import ForecastLine, SpendForecast
    from valuegap.outcomes.coverage import CoverageTrend
    from valuegap.outcomes.jcurve import JCurveReport
    from valuegap.outcomes.results import SuccessfulOutcomes
    from valuegap.outcomes.scenarios import Scenario

Spec = dict[str, Any]

ACTUAL_LABEL = "Actual"
EXPECTED_LABEL = "Expected (business case)"
BAND_LABEL = "Expected band"
RUNGS = tuple(rung.value for rung in ladder.RUNGS)  # the ladder's seven, in order
PERSON_RUNGS = tuple(rung.value for rung in ladder.PERSON_RUNGS)
GROUP_RUNGS = RUNGS[len(PERSON_RUNGS) :]  # a group reaches them as a whole
SUBTITLE_COLOUR = "#4b5563"  # a page's muted text
BASELINE_LABEL = "Baseline"
SCENARIO_LABEL = "Scenario"
STATUS_WORDS = {
    "ahead": "ahead of plan",
    "on_track": "on track",
    "in_expected_dip": "in the expected dip",
    "behind": "behind plan",
}


def jcurve_chart(report: JCurveReport) -> Spec:
    """Actual cumulative net value (a line with points) against the business case's expected
    curve (dashed) and its band (a shaded area), by month; for an initiative or the portfolio."""
    import altair as alt

    by_calendar = report.start is not None
    rows = []
    for m in report.months:
        rows.append(
            {
                "month": f"{m.calendar_month}-01" if by_calendar else m.month,
                "label": m.calendar_month or f"month {m.month}",
                "band_low": amount(m.band_low),
                "band_high": amount(m.band_high),
                "band": f"{shown(m.band_low, report.currency)} to "
                f"{shown(m.band_high, report.currency)}",
                "expected": amount(m.expected_cumulative),
                "expected_shown": shown(m.expected_cumulative, report.currency),
                "actual": amount(m.actual_cumulative),
                "actual_shown": shown(m.actual_cumulative, report.currency),
                "status": STATUS_WORDS.get(m.status or "", ""),
            }
        )
    data = alt.InlineData(values=rows)
    x = (
        alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y"))
        if by_calendar
        else alt.X("month:Q", title="Month of the programme", axis=alt.Axis(tickMinStep=1))
    )
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(
            domain=[ACTUAL_LABEL, EXPECTED_LABEL, BAND_LABEL],
            range=[style.ACTUAL, style.EXPECTED, style.BAND],
        ),
    )
    y_title = f"Cumulative net value ({report.currency})"
    tooltip = [
        alt.Tooltip("label:N", title="Month"),
        alt.Tooltip("actual_shown:N", title="Actual"),
        alt.Tooltip("expected_shown:N", title="Expected"),
        alt.Tooltip("band:N", title="Expected band"),
        alt.Tooltip("status:N", title="Status"),
    ]
    base = alt.Chart(data).encode(x=x)
    band = (
        base.mark_area(opacity=0.45)
        .encode(
            y=alt.Y("band_low:Q", title=y_title),
            y2="band_high:Q",
            color=colour,
            tooltip=tooltip,
        )
        .transform_calculate(series=f"'{BAND_LABEL}'")
    )
    expected = (
        base.mark_line(strokeDash=[6, 4], strokeWidth=2)
        .encode(y="expected:Q", color=colour, tooltip=tooltip)
        .transform_calculate(series=f"'{EXPECTED_LABEL}'")
    )
    actual = (
        base.transform_filter("datum.actual !== null")
        .transform_calculate(series=f"'{ACTUAL_LABEL}'")
        .mark_line(point=True, strokeWidth=2.5)
        .encode(y="actual:Q", color=colour, tooltip=tooltip)
    )
    zero = (
        alt.Chart(alt.InlineData(values=[{"zero": 0}]))
        .mark_rule(color="#9ca3af")
        .encode(y="zero:Q")
    )
    whose = f"J-curve: {report.initiative}" if report.initiative else "Portfolio J-curve"
    status = STATUS_WORDS.get(report.status or "", "no actuals yet")
    payback = (
        f"payback expected in month {report.payback_month}"
        if report.payback_month
        else "no payback within the months shown"
    )
    chart = alt.layer(band, expected, actual, zero).properties(
        title=alt.Title(whose, subtitle=f"Actual against the business case: {status}; {payback}"),
        width=style.WIDTH,
        height=style.HEIGHT,
    )
    return finish(chart)


def scenario_chart(scenario: Scenario) -> Spec:
    """The scenario's expected cumulative net value against its baseline, by month: a legend
    names the dashed baseline and the scenario, and the month axis ends at the last month."""
    import altair as alt

    rows = [
        {
            "month": m.month,
            "series": series,
            "value": amount(value),
            "shown": shown(value, scenario.currency),
        }
        for m in scenario.jcurve
        for series, value in ((BASELINE_LABEL, m.baseline), (SCENARIO_LABEL, m.scenario))
    ]
    curves = [BASELINE_LABEL, SCENARIO_LABEL]
    # Colour and dash share one legend, which shows each curve's line as it is drawn.
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=curves, range=[style.EXPECTED, style.SCENARIO]),
    )
    dash = alt.StrokeDash(
        "series:N", title=None, scale=alt.Scale(domain=curves, range=[[6, 4], [1, 0]])
    )
    months = [m.month for m in scenario.jcurve]
    first, last = min(months), max(months)
    month_axis = alt.X(
        "month:Q",
        title="Month of the programme",
        scale=alt.Scale(domain=[first, last], nice=False, zero=False),
        axis=alt.Axis(values=month_ticks(first, last)),
    )
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_line(strokeWidth=2.5)
        .encode(
            x=month_axis,
            y=alt.Y("value:Q", title=f"Cumulative net value ({scenario.currency})"),
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("month:Q", title="Month"),
                alt.Tooltip("series:N", title="Curve"),
                alt.Tooltip("shown:N", title="Cumulative net value"),
            ],
        )
        .properties(
            title=alt.Title(
                f"Scenario: {scenario.name or scenario.initiative}",
                subtitle=f"{scenario.changes} against the baseline",
            ),
            width=style.WIDTH,
            height=style.HEIGHT,
        )
    )
    return finish(chart)


def month_ticks(first: int, last: int) -> list[int]:
    """The month axis's ticks: the first and last month, and every sixth between (every
    month for a year or less)."""
    step = 1 if last - first < 12 else 6
    between = [m for m in range(step, last, step) if m > first]
    return [first, *between, last] if last > first else [first]


def coverage_trend_chart(trend: CoverageTrend) -> Spec:
    """Attribution coverage by month: the share of all AI cost tied to a validated outcome."""
    import altair as alt

    rows = [
        {
            "month": f"{m.month}-01",
            "label": m.month,
            "coverage": m.attribution_coverage,
            "coverage_shown": percent(m.attribution_coverage),
            "validated_shown": shown(m.validated_cost, trend.currency),
            "total_shown": shown(m.total_cost, trend.currency),
        }
        for m in trend.months
    ]
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .transform_filter("datum.coverage !== null")
        .mark_line(point=True, strokeWidth=2.5, color=style.ACTUAL)
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y")),
            y=alt.Y(
                "coverage:Q",
                title="Attribution coverage",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Month"),
                alt.Tooltip("coverage_shown:N", title="Coverage"),
                alt.Tooltip("validated_shown:N", title="Validated cost"),
                alt.Tooltip("total_shown:N", title="All AI cost"),
            ],
        )
        .properties(
            title=alt.Title(
                "Attribution coverage by month",
                subtitle="Cost of initiatives with a validated outcome / all AI cost "
                "(unallocated included)",
            ),
            width=style.WIDTH,
            height=style.HEIGHT,
        )
    )
    return finish(chart)


def cost_stack_chart(lines: Sequence[CostLine]) -> Spec:
    """Cost by category, stacked, by month (lines summed by at least category and month)."""
    import altair as alt

    currency = _currency(lines)
    summed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        summed[(line.month or "", line.category or "(none)")] += line.cost
    rows = [
        {
            "month": f"{month}-01",
            "label": month,
            "category": category,
            "cost": amount(cost),
            "shown": shown(cost, currency),
        }
        for (month, category), cost in sorted(summed.items())
        if month
    ]
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("month:O", timeUnit="yearmonth", title="Month"),
            y=alt.Y("cost:Q", title=f"Cost ({currency})", stack="zero"),
            color=_category_colour({category for _, category in summed}),
            tooltip=[
                alt.Tooltip("label:N", title="Month"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("shown:N", title="Cost"),
            ],
        )
        .properties(title="Cost by category", width=style.WIDTH, height=style.HEIGHT)
    )
    return finish(chart)


def cost_bar_chart(lines: Sequence[CostLine], dimension: str) -> Spec:
    """Cost by one dimension (business_unit, provider, model, category), largest first."""
    import altair as alt

    from valuegap.costs.cost_report import cost_by

    currency = _currency(lines)
    rows = [
        {"name": name, "cost": amount(cost), "shown": shown(cost, currency)}
        for name, cost in cost_by(lines, dimension)
    ]
    named = dimension.replace("_", " ")
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar(color=style.ACTUAL)
        .encode(
            x=alt.X("cost:Q", title=f"Cost ({currency})"),
            y=alt.Y("name:N", title=named.capitalize(), sort="-x"),
            tooltip=[
                alt.Tooltip("name:N", title=named.capitalize()),
                alt.Tooltip("shown:N", title="Cost"),
            ],
        )
        .properties(
            title=f"Cost by {named}",
            width=style.WIDTH,
            height=max(60, 24 * len(rows)),
        )
    )
    return finish(chart)


def cost_per_outcome_chart(outcomes: SuccessfulOutcomes, currency: str = "") -> Spec:
    """Cost per successful outcome by month (months without outcomes have none to show)."""
    import altair as alt

    rows = [
        {
            "month": f"{m.month}-01",
            "label": m.month,
            "per_outcome": amount(m.cost_per_outcome),
            "shown": shown(m.cost_per_outcome, currency).strip(),
            "outcomes": m.outcomes,
        }
        for m in outcomes.by_month
        if m.cost_per_outcome is not None
    ]
    trend = f"trend: {outcomes.trend}" if outcomes.trend else "too few months for a trend"
    unit = f" ({currency})" if currency else ""
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_line(point=True, strokeWidth=2.5, color=style.ACTUAL)
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y")),
            y=alt.Y("per_outcome:Q", title=f"Cost per successful outcome{unit}"),
            tooltip=[
                alt.Tooltip("label:N", title="Month"),
                alt.Tooltip("shown:N", title="Cost per outcome"),
                alt.Tooltip("outcomes:Q", title="Successful outcomes"),
            ],
        )
        .properties(
            title=alt.Title("Cost per successful outcome", subtitle=trend),
            width=style.WIDTH,
            height=style.HEIGHT,
        )
    )
    return finish(chart)


def rung_reached(group: GroupLadder, rung: str) -> tuple[float | None, str]:
    """How far a group reached a rung of the ladder, as a share (0-1) and in words: the share
    of its licensed people at that rung or above for a person's rung, 1 or 0 (``reached``,
    ``not yet``) for workflow integration and measured outcome, which a group reaches as a
    whole (its rung is one of them or above)."""
    if rung in PERSON_RUNGS:
        share: float | None = getattr(group, f"reaching_{rung}")
        return share, percent(share)
    reached = group.rung is not None and ladder.Rung(group.rung) >= ladder.Rung(rung)
    return (1.0, "reached") if reached else (0.0, "not yet")


def _cell_label(rung: str, share: float | None) -> str:
    """A heatmap cell's text, short enough for a phone's narrow cells (the tooltip has it in
    full): a whole percentage, or yes and no for the rungs a group reaches as a whole."""
    if rung in GROUP_RUNGS:
        return "yes" if share else "no"
    return "" if share is None else f"{share:.0%}"


def ladder_heatmap(report: AdoptionReport) -> Spec:
    """The share of each group's people who reached each of the adoption ladder's seven rungs
    (workflow integration and measured outcome: reached by the group or not yet)."""
    import altair as alt

    rows = []
    for group in report.groups:
        for order, rung in enumerate(RUNGS):
            share, words = rung_reached(group, rung)
            rows.append(
                {
                    "group": group.group,
                    "rung": rung.replace("_", " "),
                    "order": order,
                    "share": share,
                    "shown": words,
                    "label": _cell_label(rung, share),
                    "people": group.people,
                }
            )
    rungs = [r.replace("_", " ") for r in RUNGS]
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=alt.X(
            "rung:N",
            title="Rung of the ladder",
            sort=rungs,
            scale=alt.Scale(domain=rungs),  # every rung, reached by anyone or not
            axis=alt.Axis(labelAngle=-30, labelAlign="right"),
        ),
        y=alt.Y("group:N", title="Group"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share:Q",
            title="Share reaching the rung",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(format="%"),
        ),
        tooltip=[
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("rung:N", title="Rung"),
            alt.Tooltip("shown:N", title="Reaching it"),
            alt.Tooltip("people:Q", title="People"),
        ],
    )
    labels = base.mark_text(fontSize=10).encode(
        text="label:N",
        color=alt.condition("datum.share > 0.6", alt.value("white"), alt.value("#111827")),
    )
    chart = alt.layer(cells, labels).properties(
        title=alt.Title("Adoption ladder", subtitle="Share of each group reaching each rung"),
        width=style.WIDTH,
        height=max(80, 28 * len(report.groups)),
    )
    return finish(chart)


def spend_forecast_chart(forecast: SpendForecast) -> Spec:
    """Spend so far and the forecast for the period with its interval, per line and in
    total; the business case's planned investment as a tick where there is one."""
    import altair as alt

    currency = forecast.currency
    rows = [_forecast_row(line, forecast.by, currency) for line in forecast.lines]
    rows.append(_forecast_row(forecast.total, [], currency) | {"name": "Total"})
    names = [r["name"] for r in rows]
    y = alt.Y("name:N", title=None, sort=names)
    tooltip = [
        alt.Tooltip("name:N", title="Spend"),
        alt.Tooltip("spent_shown:N", title="Spent so far"),
        alt.Tooltip("forecast_shown:N", title="Forecast"),
        alt.Tooltip("interval:N", title="90 % interval"),
        alt.Tooltip("planned_shown:N", title="Planned"),
    ]
    base = alt.Chart(alt.InlineData(values=rows)).encode(y=y, tooltip=tooltip)
    x_title = f"Spend ({currency}), {forecast.start:%Y-%m-%d} to {forecast.end:%Y-%m-%d}"
    forecast_bar = base.mark_bar(color=style.BAND).encode(x=alt.X("forecast:Q", title=x_title))
    spent_bar = base.mark_bar(color=style.ACTUAL, size=10).encode(x="spent:Q")
    interval = (
        base.transform_filter("datum.low !== null")
        .mark_rule(color="#111827", strokeWidth=1.5)
        .encode(x="low:Q", x2="high:Q")
    )
    layers = [forecast_bar, spent_bar, interval]
    key = "Dark: spent so far; light: forecast, with its 90 % interval"
    if any(row["planned"] is not None for row in rows):  # no empty layer: Vega warns of it
        layers.append(
            base.transform_filter("datum.planned !== null")
            .mark_tick(color=style.BUDGET, thickness=3, size=26)
            .encode(x="planned:Q")
        )
        key += "; red tick: planned"
    chart = alt.layer(*layers).properties(
        title=alt.Title("Spend forecast", subtitle=key),
        width=style.WIDTH,
        height=max(60, 30 * len(rows)),
    )
    return finish(chart)


def _forecast_row(line: ForecastLine, by: Sequence[str], currency: str) -> dict[str, Any]:
    interval = (
        f"{shown(line.low, currency)} to {shown(line.high, currency)}"
        if line.low is not None and line.high is not None
        else "too few days to estimate"
    )
    return {
        "name": ", ".join(str(getattr(line, key) or "(none)") for key in by) or "Total",
        "spent": amount(line.spent + line.manual),
        "spent_shown": shown(line.spent + line.manual, currency),
        "forecast": amount(line.forecast),
        "forecast_shown": shown(line.forecast, currency),
        "low": amount(line.low),
        "high": amount(line.high),
        "interval": interval,
        "planned": amount(line.planned),
        "planned_shown": shown(line.planned, currency) if line.planned is not None else "none",
    }


def _currency(lines: Sequence[CostLine]) -> str:
    return lines[0].currency if lines else ""


def _category_colour(categories: set[str]) -> Any:
    import altair as alt

    known = [c for c in style.CATEGORY_COLOURS if c in categories]
    others = sorted(categories - set(known))
    domain = known + others
    colours = [style.CATEGORY_COLOURS[c] for c in known]
    colours += [style.OTHER_COLOURS[n % len(style.OTHER_COLOURS)] for n in range(len(others))]
    return alt.Color("category:N", title="Category", scale=alt.Scale(domain=domain, range=colours))


def for_page(spec: Spec) -> Spec:
    """A chart as a page draws it: as wide as its place (Vega-Lite's ``container`` width,
    fitted), so that its text keeps its size on a phone instead of shrinking with a fixed-size
    picture; and without its title, which the page's heading says (its subtitle, which tells
    how to read it, stays, as the title's line). The executive report's PNG and PDF keep the
    spec's fixed size and title."""
    drawn = {**spec, "width": "container", "autosize": {"type": "fit", "contains": "padding"}}
    title = spec.get("title")
    subtitle = title.get("subtitle") if isinstance(title, dict) else None
    drawn.pop("title", None)
    if subtitle:
        drawn["title"] = {
            "text": subtitle,
            "fontSize": 12,
            "fontWeight": "normal",
            "color": SUBTITLE_COLOUR,
            "anchor": "start",
        }
    return drawn

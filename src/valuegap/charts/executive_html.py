"""The executive report as one self-contained HTML file: its charts inline as SVG, its style
in the file, nothing loaded from anywhere else (it can be mailed or opened offline)."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from typing import Any

from valuegap.charts import specs
from valuegap.charts.executive import (
    ACTION_WORDS,
    ACTIONS_HEADING,
    ACTIONS_NOTE,
    STATUS_WORDS,
    ExecutiveReport,
    action_when,
    figures,
    money_text,
    percent_text,
    period_text,
)
from valuegap.charts.render import to_svg


def to_html(report: ExecutiveReport) -> str:
    import jinja2
    from markupsafe import Markup

    source = resources.files("valuegap.charts") / "templates" / "executive.html"
    template = jinja2.Environment(autoescape=True).from_string(source.read_text("utf-8"))

    def svg(spec: dict[str, Any]) -> Markup:
        return Markup(to_svg(spec))

    def money(amount: Decimal | None) -> str:
        return money_text(amount, report.currency)

    charts = {
        "coverage": svg(specs.coverage_trend_chart(report.coverage)),
        "portfolio": svg(specs.jcurve_chart(report.portfolio_jcurve)),
        "initiatives": [svg(specs.jcurve_chart(j)) for j in report.jcurves],
    }
    return template.render(
        report=report,
        period=period_text(report.period),
        figures=figures(report),
        charts=charts,
        action_words=ACTION_WORDS,
        actions_heading=ACTIONS_HEADING,
        actions_note=ACTIONS_NOTE,
        action_when=action_when,
        status_words=STATUS_WORDS,
        money=money,
        percent=percent_text,
    )

"""The look every chart shares: its colours, size and fonts, and money as a table shows it.

Colours are chosen to stay apart for people with a red-green colour deficiency (Okabe-Ito and
a dark blue) and to print legibly in greys.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from valuegap import decimals

ACTUAL = "#1f4e79"  # dark blue: what happened
EXPECTED = "#6b7280"  # grey: what the business case named in advance
BAND = "#9ecae1"  # light blue: the expected band
SCENARIO = "#d55e00"  # vermilion: a scenario against its baseline
BUDGET = "#cc3311"  # red: a line not to cross
CATEGORY_COLOURS = {
    "infrastructure": "#0072b2",
    "development": "#e69f00",
    "data": "#009e73",
    "operations": "#cc79a7",
    "opportunity": "#56b4e9",
}
OTHER_COLOURS = ["#999999", "#d55e00", "#f0e442", "#000000"]

WIDTH = 560
HEIGHT = 260
FONT = "Helvetica, Arial, sans-serif"

CONFIG: dict[str, Any] = {
    "font": FONT,
    "title": {
        "fontSize": 15,
        "anchor": "start",
        "subtitleColor": "#4b5563",
        "subtitleFontSize": 12,
    },
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e5e7eb"},
    "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom"},
    "view": {"stroke": None},
}


def amount(value: Decimal | None) -> float | None:
    """An amount as a chart draws it: a picture, not a total, so a float is fine here."""
    return None if value is None else float(value)


def shown(value: Decimal | None, currency: str) -> str:
    """An amount as a tooltip shows it: as a table would, with its currency."""
    return "none" if value is None else f"{decimals.money(value, currency)} {currency}"


def percent(value: float | None) -> str:
    """A ratio as a table shows it (its JSON number's shortest text, rounded half to even):
    0.1235 is 12.4%, where the float's own formatting would say 12.3%."""
    return "none" if value is None else decimals.percent(Decimal(str(value)))


def finish(chart: Any) -> dict[str, Any]:
    """The chart's spec with the shared look. Not checked against Vega-Lite's schema here:
    that takes 40 ms a chart, a page's worth of time; the tests check every chart's spec."""
    spec: dict[str, Any] = chart.configure(**CONFIG).to_dict(validate=False)
    return spec

"""The executive report as a PDF of three A4 pages, in pure Python (fpdf2): the headline
numbers with the coverage trend and the portfolio J-curve; the scale/fix/kill list; the
J-curves of the initiatives that matter most. Charts are the same specs as the HTML's,
rendered to PNG by vl-convert."""

from __future__ import annotations

import io
import struct
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
from valuegap.charts.render import to_png

PAGE_WIDTH = 210.0  # A4, mm
MARGIN = 14.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = (17, 24, 39)
MUTED = (75, 85, 99)
RULE = (229, 231, 235)
ACTION_COLOURS = {
    "scale": (22, 101, 52),
    "fix": (146, 64, 14),
    "kill": (153, 27, 27),
    "continue": (31, 78, 121),
    "not_reviewed": MUTED,
}
# The PDF's built-in fonts hold Latin-1 only: what else a reason may say, spelled in it.
PLAIN = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2192": "->",
        "\u2026": "...",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u00d7": "x",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)


def to_pdf(report: ExecutiveReport) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.set_title("AI value: executive report")
    pdf.set_creator("valuegap")
    _first_page(pdf, report)
    _actions_page(pdf, report)
    if report.jcurves:
        pdf.add_page()
        _heading(pdf, "The initiatives' J-curves that matter most")
        _note(pdf, "Behind their business case first, then in the expected dip, then by cost.")
        for jcurve in report.jcurves:
            _chart(pdf, specs.jcurve_chart(jcurve), height=112)
    return bytes(pdf.output())


def _first_page(pdf: Any, report: ExecutiveReport) -> None:
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(WIDTH, 9, "AI value: executive report", new_x="LMARGIN", new_y="NEXT")
    level = f"{report.confidence_level:.0%}"
    _note(pdf, f"{period_text(report.period)} - amounts in {report.currency} - {level} confidence")
    pdf.ln(2)
    box_w, box_h, gap = (WIDTH - 2 * 4) / 3, 21.0, 4.0
    top = pdf.get_y()
    for n, figure in enumerate(figures(report)):
        x = MARGIN + (n % 3) * (box_w + gap)
        y = top + (n // 3) * (box_h + gap)
        pdf.set_draw_color(*RULE)
        pdf.rect(x, y, box_w, box_h)
        pdf.set_xy(x + 3, y + 2)
        pdf.set_font("Helvetica", "", 7.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(box_w - 6, 4, _plain(figure.label.upper()))
        pdf.set_xy(x + 3, y + 6.5)
        pdf.set_font("Helvetica", "B", 13)
        pdf.set_text_color(*INK)
        pdf.cell(box_w - 6, 6, _plain(figure.value))
        pdf.set_xy(x + 3, y + 13)
        pdf.set_font("Helvetica", "", 7)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(box_w - 6, 3.2, _plain(figure.note))
    pdf.set_xy(MARGIN, top + 2 * box_h + gap + 4)
    _chart(pdf, specs.coverage_trend_chart(report.coverage), height=88)
    _chart(pdf, specs.jcurve_chart(report.portfolio_jcurve), height=98)


def _actions_page(pdf: Any, report: ExecutiveReport) -> None:
    pdf.add_page()
    _heading(pdf, ACTIONS_HEADING)
    _note(pdf, ACTIONS_NOTE)
    pdf.ln(2)
    widths = (36, 22, 16, 18, 25, 12, 53)
    heading = ("Initiative", "Action", "Stage", "J-curve", "Cost", "ROI", "Why")
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
        line_height=4,
        borders_layout="HORIZONTAL_LINES",
        v_align="TOP",
        padding=(1.2, 1, 1.2, 1),
        first_row_as_headings=True,
        width=WIDTH,
    ) as table:
        pdf.set_font("Helvetica", "B", 7.5)
        row = table.row()
        for text in heading:
            row.cell(text)
        for a in report.actions:
            pdf.set_font("Helvetica", "", 7.5)
            row = table.row()
            row.cell(_plain(f"{a.name}\n{a.business_unit}"))
            pdf.set_text_color(*ACTION_COLOURS[a.action])
            row.cell("\n".join([ACTION_WORDS[a.action], *action_when(a)]))
            pdf.set_text_color(*INK)
            row.cell(a.stage)
            row.cell(STATUS_WORDS.get(a.jcurve_status or "", ""))
            row.cell(money_text(a.total_cost, report.currency))
            row.cell(percent_text(a.roi))
            row.cell(_plain(" ".join(a.reasons)))


def _heading(pdf: Any, text: str) -> None:
    pdf.set_font("Helvetica", "B", 14)
    pdf.set_text_color(*INK)
    pdf.cell(WIDTH, 8, _plain(text), new_x="LMARGIN", new_y="NEXT")


def _note(pdf: Any, text: str) -> None:
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(WIDTH, 4.5, _plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _chart(pdf: Any, spec: dict[str, Any], height: float) -> None:
    """The chart as PNG, as wide as fits ``height`` mm and the page, then a little space."""
    png = to_png(spec, scale=3)
    width_px, height_px = struct.unpack(">II", png[16:24])  # the PNG header's size
    width = min(WIDTH, height * width_px / height_px)
    shown_height = width * height_px / width_px
    pdf.image(io.BytesIO(png), x=MARGIN, y=pdf.get_y(), w=width, h=shown_height)
    pdf.set_y(pdf.get_y() + shown_height + 4)


def _plain(text: str) -> str:
    return text.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")

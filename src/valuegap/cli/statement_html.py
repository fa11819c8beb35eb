"""A statement as one self-contained HTML page to print or send: its styles inline, no scripts,
no links to fetch, every value escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from html import escape

from valuegap.decimals import money
from valuegap.outcomes.statement import Statement

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.9em; }
@media print { body { margin: 0; } }
"""

Cell = str | int | float | Decimal | None


def statement_html(statement: Statement) -> str:
    s, currency = statement, statement.currency

    def amount(value: Decimal | None) -> str:
        return "" if value is None else f"{money(value, currency)} {currency}"

    start, end = s.period.start, s.period.end
    period = f"{start} to {end - timedelta(days=1)}" if start and end else ""
    summary: list[tuple[str, str]] = [
        ("Business unit", s.business_unit),
        ("Period", period),
        ("Statement", s.mode + (f", cost centre {s.cost_centre}" if s.cost_centre else "")),
        ("Cost", amount(s.cost)),
        ("of which invoiced", amount(s.invoiced)),
        ("of which estimated (usage not yet invoiced)", amount(s.estimated)),
        ("of which manual (people, data, licences, operations)", amount(s.manual)),
    ]
    if s.adjustments:
        summary.append(("Adjustments to closed months", amount(s.adjustments_total)))
    if s.to_book is not None:
        summary.append(("To book", amount(s.to_book)))
    summary.append(("Cost per successful outcome", amount(s.cost_per_outcome) or "none"))
    if s.closed_at:
        summary.append(("Closed", f"{s.closed_at:%Y-%m-%d %H:%M} by {s.closed_by}"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(s.mode.capitalize())} statement: {escape(s.business_unit)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(s.mode.capitalize())} statement: {escape(s.business_unit)}</h1>",
        _table(["", ""], [[k, v] for k, v in summary], numeric=()),
        "<h2>Cost</h2>",
        _table(
            ["Initiative", "Category", "Provider", "Model", "Basis", "Cost"],
            [
                [ln.initiative, ln.category, ln.provider, ln.model, ln.basis, amount(ln.cost)]
                for ln in s.lines
            ],
        ),
    ]
    if s.shared:
        parts += [
            "<h2>Shared cost</h2>",
            _table(
                ["Rule", "Method", "Driver", "Initiative", "Cost", "Of", "Share"],
                [
                    [
                        x.rule,
                        x.method,
                        x.driver,
                        x.initiative,
                        amount(x.cost),
                        amount(x.split_total),
                        "" if x.share is None else f"{x.share:.1%}",
                    ]
                    for x in s.shared
                ],
                numeric=(4, 5, 6),
            ),
        ]
    if s.adjustments:
        parts += [
            "<h2>Adjustments</h2>",
            _table(
                ["Corrects", "Initiative", "Category", "Provider", "Model", "Difference"],
                [
                    [
                        a.corrects,
                        a.initiative,
                        a.category,
                        a.provider,
                        a.model,
                        amount(a.difference),
                    ]
                    for a in s.adjustments
                ],
            ),
        ]
    if s.unit_economics:
        parts += [
            "<h2>Unit economics</h2>",
            _table(
                ["Initiative", "Cost", "Successful outcomes", "Cost per outcome"],
                [
                    [
                        e.initiative,
                        amount(e.cost),
                        e.successful_outcomes,
                        amount(e.cost_per_outcome) or "none",
                    ]
                    for e in s.unit_economics
                ],
                numeric=(1, 2, 3),
            ),
        ]
    activity = s.activity
    parts += [
        "<h2>Activity</h2>",
        f'<p class="note">{escape(activity.note)}</p>',
        _table(["Tokens", "Requests"], [[activity.tokens, activity.requests]], numeric=(0, 1)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], numeric: Sequence[int] = (-1,)
) -> str:
    """A table; the columns ``numeric`` (by position, -1 the last) aligned right."""
    right = {n % len(header) for n in numeric}

    def cells(tag: str, values: Sequence[Cell]) -> str:
        found = []
        for n, value in enumerate(values):
            text = escape("" if value is None else str(value))
            found.append(
                f"<{tag} class=n>{text}</{tag}>" if n in right else f"<{tag}>{text}</{tag}>"
            )
        return "".join(found)

    head = f"<tr>{cells('th', header)}</tr>" if any(header) else ""
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table>{head}{body}</table>"

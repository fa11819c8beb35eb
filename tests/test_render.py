"""The one JSON form and the renderers: every format shows the same values, none prints;
tables fit their width and never cut a value."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from random import Random

import pytest
from rich.cells import cell_len

from valuegap import render
from valuegap.render import Format
from valuegap.results import Kind, Kinds, Money, Quantity, Ratio, kinds, schema, to_data


@dataclass(frozen=True)
class Line:
    initiative: str
    month: date
    cost: Money
    share: Ratio | None
    validated: bool
    rules: list[str]


LINES = [
    Line("claims-triage", date(2025, 3, 1), Decimal("1234567.8912"), 0.25, True, ["a", "b"]),
    Line("support|bot", date(2025, 4, 1), Decimal("-10.50"), None, False, []),
]


def test_the_json_form_keeps_money_exact_and_dates_iso() -> None:
    assert to_data(LINES[0]) == {
        "initiative": "claims-triage",
        "month": "2025-03-01",
        "cost": "1234567.8912",
        "share": 0.25,
        "validated": True,
        "rules": ["a", "b"],
    }
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert to_data({"at": moment, "ratio": float("nan")}) == {
        "at": "2025-01-02T03:04:05Z",
        "ratio": None,
    }


def test_the_json_form_keeps_every_digit_and_no_trailing_zero() -> None:
    stored = {"volume": Decimal("12.0000000000"), "cost": Decimal("438802.7816879744")}
    assert to_data(stored) == {"volume": "12", "cost": "438802.7816879744"}
    assert to_data([Decimal("-0.00"), Decimal("1E+3"), Decimal("0.0042500000")]) == [
        "0",
        "1000",
        "0.00425",
    ]


class Colour(StrEnum):
    RED = "red"


def test_the_json_form_changes_only_decimals_at_every_depth() -> None:
    nested = {
        "a": [1, 2.5, True, None, "x", Colour.RED, (Decimal("2.50"), {"b": Decimal("0E-10")})],
        "c": {"d": [[Decimal("7.0000000000")]], "e": False},
    }
    assert to_data(nested) == {
        "a": [1, 2.5, True, None, "x", "red", ["2.5", {"b": "0"}]],
        "c": {"d": [["7"]], "e": False},
    }
    assert to_data(LINES[1]) == to_data([LINES[1]])[0]


def test_the_schema_declares_every_field() -> None:
    found = schema(list[Line])
    assert found["type"] == "array"
    properties = found["$defs"]["Line"]["properties"]  # type: ignore[index,call-overload]
    assert set(properties) == {"initiative", "month", "cost", "share", "validated", "rules"}


def test_json_and_csv_hold_the_same_values(capsys: pytest.CaptureFixture[str]) -> None:
    as_json = json.loads(render.records(LINES, Format.json))
    as_csv = list(csv.DictReader(io.StringIO(render.records(LINES, Format.csv))))
    assert [r["cost"] for r in as_json] == [r["cost"] for r in as_csv] == ["1234567.8912", "-10.5"]
    assert as_csv[0]["rules"] == '["a", "b"]' and as_csv[1]["share"] == ""
    assert as_csv[0]["validated"] == "true"
    assert capsys.readouterr().out == ""  # renderers return text, never print


def test_a_table_shows_the_columns_asked_for_whole() -> None:
    text = render.records(LINES, Format.table, columns=["initiative", "cost", "validated"])
    assert "1,234,567.89" in text and "claims-triage" in text and "yes" in text
    assert "month" not in text


def test_a_table_shows_values_as_they_are_not_as_markup_or_emoji_codes() -> None:
    rows = [{"name": "[bold]x[/bold] :smile:", "note": "[/unbalanced]"}]
    for width in (100, 30):  # a table, then records
        text = render.records(rows, Format.table, width=width)
        assert "[bold]x[/bold]" in text and ":smile:" in text and "[/unbalanced]" in text


def test_a_table_rounds_money_to_its_minor_unit_and_shows_ratios_as_percentages() -> None:
    text = render.records(LINES, Format.table, columns=["initiative", "cost", "share"])
    assert "1,234,567.89" in text and "-10.50" in text and "25.0%" in text
    exact = render.records(LINES, Format.table, columns=["cost", "share"], exact=True)
    assert "1,234,567.8912" in exact and "-10.50" in exact and "25.0%" in exact
    yen = [{"cost": Decimal("1234.5"), "currency": "JPY"}, {"cost": Decimal("2.125")}]
    shown = render.records(yen, Format.markdown, kinds=Kinds(money=frozenset({"cost"})))
    assert "| 1,234 | JPY |" in shown and "| 2.12 |" in shown  # half to even; cents by default


def test_markdown_escapes_the_pipe_and_titles_the_table() -> None:
    text = render.records(LINES, Format.markdown, columns=["initiative", "cost"], title="Costs")
    assert text.splitlines() == [
        "### Costs",
        "",
        "| initiative | cost |",
        "| --- | --- |",
        "| claims-triage | 1,234,567.89 |",
        "| support\\|bot | -10.50 |",
    ]


def test_an_empty_list_says_so() -> None:
    assert render.records([], Format.table, title="Costs") == "Costs: none.\n"
    assert render.records([], Format.csv, columns=["a", "b"]) == "a,b\n"
    assert render.records([], Format.json) == "[]\n"


def test_a_document_puts_its_lists_of_objects_in_tables_of_their_own() -> None:
    doc = {"currency": "USD", "total": Decimal("5.00"), "lines": LINES}
    text = render.document(doc, Format.markdown, title="Report")
    assert "| currency | USD |" in text and "| total | 5 |" in text
    assert "### lines" in text and "| support\\|bot | 2025-04-01 | -10.50 |" in text
    rows = list(csv.reader(io.StringIO(render.document(doc, Format.csv))))
    assert rows[0] == ["field", "value"] and rows[2] == ["total", "5"]
    assert json.loads(rows[3][1])[1]["cost"] == "-10.5"
    money = Kinds(money=frozenset({"total"}))
    assert "| total | 5.00 |" in render.document(doc, Format.markdown, kinds=money)


@dataclass(frozen=True)
class Calls:
    requests: Quantity


def test_a_quantity_shows_two_decimals_in_tables_and_every_decimal_in_json() -> None:
    # 2,386 calls in a month shared by three initiatives: a third is 795.333...
    calls = Calls(Decimal(2386) / 3)
    assert kinds(calls) == Kinds(quantities=frozenset({"requests"}))
    assert "| requests | 795.33 |" in render.document(calls, Format.markdown)
    assert "| requests | 795.3333333333333333333333333 |" in render.document(
        calls, Format.markdown, exact=True
    )
    assert json.loads(render.document(calls, Format.json)) == {
        "requests": "795.3333333333333333333333333"
    }


def test_a_renderer_refuses_what_is_not_its_shape() -> None:
    with pytest.raises(TypeError):
        render.records(LINES[0], Format.json)
    with pytest.raises(TypeError):
        render.document(LINES, Format.json)


def test_the_kinds_of_fields_come_from_the_types_and_flattened_names_find_theirs() -> None:
    assert kinds(LINES) == Kinds(money=frozenset({"cost"}), ratios=frozenset({"share"}))
    assert kinds({"lines": LINES, "currency": "USD"}) == kinds(LINES)
    found = Kinds(money=frozenset({"cost_per_outcome", "cost_by_category"}))
    assert found.of("overall.cost_per_outcome") is Kind.money  # the field of a flattened object
    assert found.of("cost_by_category.data") is Kind.money  # a mapping of amounts
    assert found.of("capacity.cost_reduced") is None


@dataclass(frozen=True)
class Assessment:
    id: str
    cost: Money
    roi: Ratio | None
    reason: str


ASSESSED = [
    Assessment(
        "claims-triage-assistant",
        Decimal("1234567.891"),
        0.1362,
        "validated in all 4 periods; the method was agreed in advance",
    ),
    Assessment("support-bot", Decimal("-10.5"), None, "no success metric is defined"),
]


@pytest.mark.parametrize("width", [40, 80, 200])
def test_a_table_fits_its_width_and_cuts_no_value(width: int) -> None:
    text = render.records(ASSESSED, Format.table, title="Initiatives", width=width)
    assert all(cell_len(line) <= width for line in text.splitlines())
    assert "…" not in text
    for whole in ["claims-triage-assistant", "1,234,567.89", "-10.50", "13.6%", "support-bot"]:
        assert whole in text
    words = [word for line in text.splitlines() for word in line.split()]
    assert "advance" in words and "defined" in words  # text wraps between words, never in one


def test_columns_shrink_to_their_longest_word_and_then_become_records() -> None:
    # The longest values need 109 columns, the longest words 60.
    wide = render.records(ASSESSED, Format.table, width=200)
    assert "validated in all 4 periods; the method was agreed in advance" in wide
    assert wide.splitlines()[0].split() == ["id", "┃", "cost", "┃", "roi", "┃", "reason"]
    folded = render.records(ASSESSED, Format.table, width=80)
    assert folded.splitlines()[0].split() == ["id", "┃", "cost", "┃", "roi", "┃", "reason"]
    assert "validated in all 4 periods; the method was agreed in advance" not in folded
    narrow = render.records(ASSESSED, Format.table, width=59)
    first, second = (block.split() for block in re.split(r"\n *\n", narrow))  # blank between
    assert first[:6] == ["id", "claims-triage-assistant", "cost", "1,234,567.89", "roi", "13.6%"]
    assert " ".join(first[6:]) == "reason " + ASSESSED[0].reason
    assert second == [
        "id",
        "support-bot",
        "cost",
        "-10.50",
        "roi",
        "reason",
        "no",
        "success",
        "metric",
        "is",
        "defined",
    ]


def rich_layout(rows: list[dict[str, str]], title: str | None, width: int) -> str:
    """A table, or records where its columns do not fit, as Rich lays them out (as render
    did until it laid them out itself)."""
    from rich.console import Console
    from rich.table import Table

    def cells(text: str) -> int:
        return max(cell_len(line) for line in text.split("\n"))

    names = list(rows[0])
    columns = [[name, *(row[name] for row in rows)] for name in names]
    longest = [max(map(cells, column)) for column in columns]
    narrowest = [max(map(cell_len, " ".join(column).split()), default=0) for column in columns]
    room = width - (3 * len(names) - 1)
    if sum(narrowest) <= room:
        table = Table(title=title, title_justify="left", show_edge=False)
        for name, column_width in zip(names, render._widths(longest, narrowest, room), strict=True):
            table.add_column(name, width=column_width, overflow="fold")
        for row in rows:
            table.add_row(*row.values())
    else:
        name_width = min(max(map(cell_len, names)), width // 2)
        longest_value = max(cells(value) for row in rows for value in row.values())
        value_width = max(min(longest_value, width - name_width - 4), 1)
        table = Table(title=title, title_justify="left", box=None, show_header=False)
        table.add_column(width=name_width, overflow="fold")
        table.add_column(width=value_width, overflow="fold")
        for position, row in enumerate(rows):
            if position:
                table.add_row("", "")
            for name, value in row.items():
                table.add_row(name, value)
    out = io.StringIO()
    Console(file=out, width=width, markup=False, emoji=False, highlight=False).print(table)
    return out.getvalue()


def test_tables_and_records_are_laid_out_as_rich_lays_them_out() -> None:
    words = ["a", "bb", "lorem", "x" * 25, "y" * 60, "日本語", "café", "gpt-4o-2024-08-06", "\t"]
    spaces = [" ", "  ", "", "\n"]
    random = Random(16)
    for _ in range(500):
        width = random.choice([10, 20, 40, 59, 80, 150, 250])
        names = random.sample(["id", "cost", "a_rather_long_field_name", "日本", "the name"], 3)
        rows = [
            {
                name: "".join(random.choice(words) + random.choice(spaces) for _ in range(4))
                for name in names
            }
            for _ in range(random.randint(1, 3))
        ]
        title = random.choice([None, "Costs", "A title longer than some of the widths here"])
        shown = render.records(rows, Format.table, title=title, width=width)
        assert shown == rich_layout(rows, title, width), (rows, title, width)

"""The one JSON form and the renderers: every format shows the same values, none prints."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from valuegap import render
from valuegap.render import Format
from valuegap.results import schema, to_data


@dataclass(frozen=True)
class Line:
    initiative: str
    month: date
    cost: Decimal
    share: float | None
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
    assert "1234567.8912" in text and "claims-triage" in text and "yes" in text
    assert "month" not in text


def test_markdown_escapes_the_pipe_and_titles_the_table() -> None:
    text = render.records(LINES, Format.markdown, columns=["initiative", "cost"], title="Costs")
    assert text.splitlines() == [
        "### Costs",
        "",
        "| initiative | cost |",
        "| --- | --- |",
        "| claims-triage | 1234567.8912 |",
        "| support\\|bot | -10.5 |",
    ]


def test_an_empty_list_says_so() -> None:
    assert render.records([], Format.table, title="Costs") == "Costs: none.\n"
    assert render.records([], Format.csv, columns=["a", "b"]) == "a,b\n"
    assert render.records([], Format.json) == "[]\n"


def test_a_document_puts_its_lists_of_objects_in_tables_of_their_own() -> None:
    doc = {"currency": "USD", "total": Decimal("5.00"), "lines": LINES}
    text = render.document(doc, Format.markdown, title="Report")
    assert "| currency | USD |" in text and "| total | 5 |" in text
    assert "### lines" in text and "| support\\|bot | 2025-04-01 | -10.5 |" in text
    rows = list(csv.reader(io.StringIO(render.document(doc, Format.csv))))
    assert rows[0] == ["field", "value"] and rows[2] == ["total", "5"]
    assert json.loads(rows[3][1])[1]["cost"] == "-10.5"


def test_a_renderer_refuses_what_is_not_its_shape() -> None:
    with pytest.raises(TypeError):
        render.records(LINES[0], Format.json)
    with pytest.raises(TypeError):
        render.document(LINES, Format.json)

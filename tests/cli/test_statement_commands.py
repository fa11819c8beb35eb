"""``valuegap report showback`` and ``valuegap chargeback``: on a copy of the demo; the HTML
page is self-contained, with every value escaped."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner, Result

from valuegap import Ledger
from valuegap.cli import app
from valuegap.cli.statement_html import statement_html
from valuegap.outcomes.periods import parse_period
from valuegap.outcomes.statement import Adjustment, StatementLine


def _run(db: Path, *args: str, actor: str = "you") -> Result:
    return CliRunner().invoke(app, [*args, "--db", str(db), "--as", actor])


def test_showback_chargeback_and_closing_from_the_command_line(demo: Path, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo, db)
    shown = _run(db, "report", "showback", "--unit", "risk", "--period", "2026-03", "-f", "json")
    assert shown.exit_code == 0, shown.output
    statement = json.loads(shown.stdout)
    with Ledger.open(db, actor="you") as ledger:
        rows = ledger.costs.cost_report(["business_unit", "month"])
    [row] = [r for r in rows if (r.business_unit, r.month) == ("risk", "2026-03")]
    assert Decimal(statement["cost"]) == row.cost
    assert statement["mode"] == "showback"

    table = _run(db, "report", "showback", "--unit", "risk", "--period", "2026-Q1")
    assert table.exit_code == 0 and "unit_economics" in table.stdout

    refused = _run(db, "chargeback", "set", "risk", "--from", "2026-03", actor="ana.costa")
    assert refused.exit_code == 1 and "may not" in refused.output
    switch = ("chargeback", "set", "risk", "--from", "2026-03", "--cost-centre", "CC-9")
    switched = _run(db, *switch, actor="finn.berg")
    assert switched.exit_code == 0, switched.output
    assert "risk is in chargeback from 2026-03, to cost centre CC-9." in switched.stdout
    closed = _run(db, "chargeback", "close", "risk", "--month", "2026-03", actor="finn.berg")
    assert closed.exit_code == 0, closed.output
    assert "risk 2026-03 is closed (chargeback): to book" in closed.stdout
    listed = _run(db, "chargeback", "list", "-f", "json")
    [unit] = json.loads(listed.stdout)
    assert (unit["business_unit"], unit["closed_months"]) == ("risk", ["2026-03"])

    lines = _run(db, "report", "showback", "--unit", "risk", "--period", "2026-03", "-f", "csv")
    booked = list(csv.DictReader(io.StringIO(lines.stdout)))
    assert sum(Decimal(r["cost"]) for r in booked) == row.cost
    assert {r["kind"] for r in booked} == {"line"}

    page = _run(db, "report", "showback", "--unit", "risk", "--period", "2026-03", "-f", "html")
    assert page.exit_code == 0, page.output
    assert page.stdout.startswith("<!DOCTYPE html>")
    assert "<script" not in page.stdout and "http" not in page.stdout
    assert "Chargeback statement: risk" in page.stdout


def test_the_html_page_escapes_every_value(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board", read_only=True) as ledger:
        statement = ledger.statements.statement("marketing", parse_period("2026-03"))
    hostile = "<script>alert('x')</script> & Co"
    statement = replace(
        statement,
        business_unit=hostile,
        cost_centre='"><img src=x onerror=alert(1)>',
        closed_at=datetime(2026, 4, 2, 9, 0),
        closed_by="<b>fiona</b>",
        lines=[StatementLine("loc-qa", "inference", hostile, "<i>m</i>", "invoiced", Decimal(1))],
        adjustments=[Adjustment("2026-02", "loc-qa", "inference", hostile, None, Decimal(-1))],
    )
    page = statement_html(statement)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "<i>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;fiona&lt;/b&gt;" in page

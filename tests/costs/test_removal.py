"""Removing wrong cost lines: by key, or exactly the lines a file yields, in one transaction, with
a reason and the rows removed in one ``costs.remove`` audit entry; what depends on them (an
invoice's split, true-ups, allocation) follows at the next report."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_TOTAL, key_file_of
from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import NotFound, PermissionDenied, ValidationError

DATA = Path(__file__).parent.parent / "data"
FOCUS = DATA / "focus-1.2-minimal.csv"
LARGEST = "999999999999999.9999999999"


def _copy_of(demo: Path, tmp_path: Path) -> Path:
    shutil.copy(demo, tmp_path / "demo.duckdb")  # it finds the demo's key (tests/conftest.py)
    return tmp_path / "demo.duckdb"


def _rows(db: Path, table: str) -> list[Any]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def _last_entry(ledger: Ledger) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    [entry] = ledger.governance.audit.audit_log(limit=1)
    return entry, json.loads(entry.before or "null"), json.loads(entry.after or "null")


def test_a_wrong_line_in_the_demo_is_removed_by_its_file(demo: Path, tmp_path: Path) -> None:
    db = _copy_of(demo, tmp_path)
    lines_before = _rows(db, "focus_lines")
    header, line = FOCUS.read_text().splitlines()[:2]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(f"{header}\n{line.replace('1100.25', LARGEST).replace('2025-0', '2026-0')}\n")
    with Ledger.open(db, actor="finn.berg") as ledger:
        ledger.costs.ingest_focus([wrong])
        assert ledger.costs.cost_report([])[0].cost > Decimal(LARGEST)
        removal = ledger.costs.removal.remove_costs(
            "focus", file=wrong, reason="a test line, not our bill"
        )
        [total] = ledger.costs.cost_report([])
        entry, before, after = _last_entry(ledger)
        assert ledger.governance.audit.verify_audit().ok
    assert removal.removed == 1
    assert total.cost.quantize(Decimal("0.01")) == DEMO_TOTAL
    assert _rows(db, "focus_lines") == lines_before
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "costs.remove",
        "focus_lines",
        "wrong.csv",
    )
    assert after == {"reason": "a test line, not our bill"}
    [row] = before["rows"]
    assert row["effective_cost"] == LARGEST
    assert row["billed_cost"] == "1200.5000000000"
    assert row["charge_description"] == "GPU hours p5.48xlarge"
    assert row["tags"] == {"initiative": "loc-qa", "team": "ml"}


def test_a_line_stored_before_the_bounds_is_removed_by_its_file(demo: Path, tmp_path: Path) -> None:
    from valuegap.sources import Input
    from valuegap.store.focus import load_focus, stage_focus

    db = _copy_of(demo, tmp_path)
    header, line = FOCUS.read_text().splitlines()[:2]
    old = tmp_path / "old.csv"
    old.write_text(f"{header}\n{line.replace('1100.25', '1e20').replace('2025-0', '2026-0')}\n")
    with Ledger.open(db, actor="finn.berg") as ledger:
        # As a valuegap before the bounds stored it: its loader without them.
        db = ledger.session.db
        with db.transaction():
            load_focus(db, stage_focus(db, Input(str(old), old), bounded=False), 99)
        ledger.costs.rebuild_aggregates()  # the facts were written behind the ledger's back
        assert ledger.costs.cost_report([])[0].cost > Decimal("1e20")
        removal = ledger.costs.removal.remove_costs("focus", file=old, reason="10^20 is a typo")
        [total] = ledger.costs.cost_report([])
    assert removal.rows[0]["effective_cost"] == Decimal("1e20")
    assert total.cost.quantize(Decimal("0.01")) == DEMO_TOTAL


def test_removing_a_file_removes_exactly_its_lines(ledger: Ledger, tmp_path: Path) -> None:
    header, *lines = FOCUS.read_text().splitlines()
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("\n".join([header, *lines[:2]]) + "\n")
    second.write_text("\n".join([header, *lines[2:]]) + "\n")
    ledger.costs.ingest_focus([first])
    kept = ledger.session.db.all("SELECT * FROM focus_lines ORDER BY ALL")
    ledger.costs.ingest_focus([second])
    assert ledger.costs.removal.remove_costs("focus", file=second, reason="sent twice").removed == 3
    assert ledger.session.db.all("SELECT * FROM focus_lines ORDER BY ALL") == kept
    # The same file again: nothing of it is left, so nothing is removed and nothing recorded.
    entries = len(ledger.governance.audit.audit_log())
    with pytest.raises(NotFound, match=r"None of the FOCUS lines that second\.csv yields"):
        ledger.costs.removal.remove_costs("focus", file=second, reason="sent twice")
    assert len(ledger.governance.audit.audit_log()) == entries


def test_usage_events_are_removed_by_id_and_by_file(ledger: Ledger) -> None:
    spend = DATA / "litellm-spend.csv"
    ledger.costs.ingest_usage(spend, "litellm")
    stored = ledger.session.db.one("SELECT count(*) FROM usage_events")
    assert stored is not None and stored[0] >= 2
    removal = ledger.costs.removal.remove_costs("usage", keys=["chatcmpl-1"], reason="a test call")
    assert [r["event_key"] for r in removal.rows] == ["chatcmpl-1"]
    assert removal.rows[0]["reported_cost"] == Decimal("0.0042500000")
    entry, before, _ = _last_entry(ledger)
    assert (entry.entity_type, entry.entity_id) == ("usage_events", "chatcmpl-1")
    assert before["rows"][0]["input_tokens"] == 1000
    rest = ledger.costs.removal.remove_costs(
        "usage", file=spend, usage_format="litellm", reason="a test file"
    )
    assert rest.removed == stored[0] - 1
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)
    # Ingested again, the file lands whole: removal leaves no trace that blocks it.
    assert ledger.costs.ingest_usage(spend, "litellm").rows_added == stored[0]


def test_a_file_that_cannot_be_read_is_said_to_remove_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.costs.ingest_usage(DATA / "litellm-spend.csv", "litellm")
    missing = tmp_path / "gone.csv"
    with pytest.raises(ValidationError) as refused:
        ledger.costs.removal.remove_costs("usage", file=missing, reason="a wrong file")
    assert str(refused.value).startswith(f"Nothing was removed: {missing} cannot be read")
    assert "ingested" not in str(refused.value)
    assert [p.message for p in refused.value.problems] == ["no such file"]


def test_usage_that_names_people_is_removed_by_file_without_the_key(ledger: Ledger) -> None:
    """An event's key holds no person data, so a lost pseudonymisation key (which stops every
    ingest of person data) does not stop a removal by file, nor makes a new key."""
    spend = DATA / "litellm-spend.csv"  # its `user` column names people
    stored = ledger.costs.ingest_usage(spend, "litellm").rows_added
    key_file = key_file_of(ledger)
    key_file.unlink()
    removal = ledger.costs.removal.remove_costs(
        "usage", file=spend, usage_format="litellm", reason="a wrong export"
    )
    assert removal.removed == stored == 2
    assert not key_file.exists()
    assert ledger.governance.audit.verify_audit().ok


def test_removing_an_invoice_line_makes_its_usage_an_estimate_again(
    demo: Path, tmp_path: Path
) -> None:
    db = _copy_of(demo, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    keys = [
        str(k) + "#1"
        for (k,) in con.execute(
            """SELECT line_hash FROM focus_lines WHERE provider = 'OpenAI'
           AND charge_period_start >= '2026-03-01' AND charge_period_start < '2026-04-01'"""
        ).fetchall()
    ]
    # What OpenAI's calls of March cost by their own prices: the estimate that comes back.
    [(usage,)] = con.execute(
        """SELECT sum(coalesce(reported_cost, computed_cost)) FROM usage_events
           WHERE provider = 'openai' AND counted
             AND ts >= '2026-03-01' AND ts < '2026-04-01'"""
    ).fetchall()
    con.close()
    assert keys
    with Ledger.open(db, actor="finn.berg") as ledger:
        [before] = ledger.costs.cost_report([], start=date(2026, 3, 1), end=date(2026, 4, 1))
        ledger.costs.removal.remove_costs(
            "focus", keys=keys, reason="the invoice was the wrong account's"
        )
        [after] = ledger.costs.cost_report([], start=date(2026, 3, 1), end=date(2026, 4, 1))
    # The month's other estimates (Anthropic's, Google's usage) stay; OpenAI's comes back.
    assert abs(after.estimated - before.estimated - usage) < Decimal("1e-8")
    assert usage.quantize(Decimal("0.01")) == Decimal("29.93")  # docs/costs.md: computed 29.93


def test_manual_entries_are_removed_by_file_every_month(ledger: Ledger, tmp_path: Path) -> None:
    costs = DATA / "manual-costs.csv"
    ledger.portfolio.apply_file(Path(__file__).parent.parent.parent / "examples" / "portfolio.yaml")
    ledger.costs.ingest_costs(costs)
    months = ledger.session.db.one("SELECT count(*) FROM manual_costs")
    removal = ledger.costs.removal.remove_costs("costs", file=costs, reason="the wrong quarter")
    # Three entries: January-March (three months), January, and 15 January-15 February (two).
    assert months == (6,)
    assert removal.removed == 6
    assert ledger.session.db.one("SELECT count(*) FROM manual_costs") == (0,)


def test_a_removal_without_reason_or_right_changes_nothing(ledger: Ledger) -> None:
    ledger.costs.ingest_usage(DATA / "litellm-spend.csv", "litellm")
    ledger.governance.users.add_user("vic", "viewer")
    stored = ledger.session.db.all("SELECT * FROM usage_events ORDER BY ALL")
    entries = len(ledger.governance.audit.audit_log())
    with pytest.raises(ValidationError, match="reason: is required"):
        ledger.costs.removal.remove_costs("usage", keys=["chatcmpl-1"], reason="  ")
    with pytest.raises(ValidationError, match="file: is missing: give the file or the lines"):
        ledger.costs.removal.remove_costs("usage", reason="no file, no key")
    with pytest.raises(ValidationError, match="keys: and a file: give one of them, not both"):
        ledger.costs.removal.remove_costs(
            "usage", keys=["chatcmpl-1"], file=DATA / "x.csv", reason="both"
        )
    with pytest.raises(NotFound, match="No usage event has the key nope"):
        ledger.costs.removal.remove_costs("usage", keys=["chatcmpl-1", "nope"], reason="typo")
    with (
        Ledger.open(ledger.session.db.path, actor="vic") as viewer,
        pytest.raises(PermissionDenied),
    ):
        viewer.costs.removal.remove_costs("usage", keys=["chatcmpl-1"], reason="not mine to remove")
    assert ledger.session.db.all("SELECT * FROM usage_events ORDER BY ALL") == stored
    assert len(ledger.governance.audit.audit_log()) == entries


def test_the_cli_removes_a_file_with_a_reason(db_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, [*args, "--db", str(db_path), "--as", "alice"])

    assert run("init").exit_code == 0
    assert run("ingest", "focus", str(FOCUS)).exit_code == 0
    missing = run("remove", "focus", str(FOCUS))
    assert missing.exit_code == 2 and "--reason" in missing.output
    dry = run("remove", "focus", str(FOCUS), "--reason", "test", "--dry-run")
    assert dry.output.strip() == (
        "5 rows of focus_lines would be removed (dry run): focus-1.2-minimal.csv."
    )
    done = run("remove", "focus", str(FOCUS), "--reason", "test")
    assert done.output.strip() == "5 rows of focus_lines removed: focus-1.2-minimal.csv."
    assert run("report", "costs", "-f", "json").output.strip() == "[]"

"""What an audit entry keeps so that verify can replay the log: an ingest's file hash, rows and
totals per month; a removal of lines (by the line-removal contract); a ledger written before
entries kept their state, proven from its baseline."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from tests.conftest import SteppingClock
from valuegap import Ledger

DATA = Path(__file__).parent.parent / "data"
MAPPING = {"timestamp": "ts", "request_model": "model_name", "provider": "vendor",
           "input_tokens": "in_tok", "output_tokens": "out_tok"}  # fmt: skip


def _state(ledger: Ledger, action: str) -> dict:  # type: ignore[type-arg]
    entry = next(e for e in ledger.governance.audit.audit_log() if e.action == action)
    assert entry.state is not None
    return json.loads(entry.state)  # type: ignore[no-any-return]


def test_an_ingest_entry_keeps_the_files_hash_its_rows_and_its_totals(ledger: Ledger) -> None:
    path = DATA / "usage-generic.csv"
    ledger.costs.ingest_usage(path, "csv", MAPPING)
    entry = next(e for e in ledger.governance.audit.audit_log() if e.action == "ingest.usage")
    assert entry.after is not None
    after = json.loads(entry.after)
    assert after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (after["rows_read"], after["rows_added"]) == (2, 2)
    # Two gpt-4o calls in March 2025: 1000 + 2000 input and 1000 + 0 output tokens; priced
    # 1000 x 2.50/M + 1000 x 10/M = 0.0125 and 2000 x 2.50/M = 0.005 (by hand).
    totals = _state(ledger, "ingest.usage")["totals"]["usage_events"]
    assert {k: Decimal(v) for k, v in totals["2025-03"].items()} == {
        "rows": 2,
        "input_tokens": 3000,
        "output_tokens": 1000,
        "computed_cost USD": Decimal("0.0175"),
    }
    assert list(totals) == ["2025-03"]


def test_a_manual_cost_ingest_keeps_its_totals_per_month_and_currency(ledger: Ledger) -> None:
    ledger.portfolio.add_initiative(
        {"id": "loc-qa", "name": "Loc QA", "kind": "use_case", "business_unit": "ops"}
    )
    ledger.costs.ingest_costs(DATA / "manual-costs.csv")
    totals = _state(ledger, "ingest.costs")["totals"]["manual_costs"]
    # Two engineers x 12,000 a month over Jan-Mar; 4,500 EUR in January; 310 USD over
    # 15 Jan - 15 Feb, split by the ingest between the two months (whatever the split, the
    # two parts make 310).
    assert Decimal(totals["2025-01"]["amount EUR"]) == 4500
    assert Decimal(totals["2025-03"]["amount USD"]) == 24000
    january, february = (Decimal(totals[m]["amount USD"]) for m in ("2025-01", "2025-02"))
    assert january + february == 24000 * 2 + 310
    assert Decimal(totals["2025-01"]["rows"]) == 3


def test_a_line_removal_by_its_contract_is_subtracted(ledger: Ledger) -> None:
    ledger.costs.ingest_usage(DATA / "usage-generic.csv", "csv", MAPPING)
    # As the line removal records it: the removed rows, column -> stored value, in ``before``.
    with ledger.session.db.transaction():
        row = ledger.session.db.all("SELECT * FROM usage_events ORDER BY ts DESC LIMIT 1")[0]
        ledger.session.db.execute(
            "DELETE FROM usage_events WHERE event_key = ?", [row["event_key"]]
        )
        ledger.session.record(
            "costs.remove", "usage_events", row["event_key"], {"rows": [row]}, {"reason": "dup"}
        )
    assert ledger.governance.audit.verify_audit().ok
    # A removal that names a row it did not remove.
    with ledger.session.db.transaction():
        kept = ledger.session.db.all("SELECT * FROM usage_events")[0]
        ledger.session.record(
            "costs.remove", "usage_events", "x", {"rows": [kept]}, {"reason": "dup"}
        )
    result = ledger.governance.audit.verify_audit()
    assert not result.ok
    assert "usage_events, 2025-03: rows totals 1 in the table, 0 by the log's" in result.message


def _written_before(path: Path) -> int:
    """Make ``path`` what valuegap wrote before entries kept their state: no state column,
    hashes without it, schema 10. Returns its number of entries."""
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE audit_log DROP COLUMN state")
    prev = "0" * 64
    rows = con.execute(
        "SELECT seq, recorded_at, actor, action, entity_type, entity_id, before, after "
        "FROM audit_log ORDER BY seq"
    ).fetchall()
    for seq, at, actor, action, kind, entity, before, after in rows:
        fields = [seq, at.isoformat(), actor, action, kind, entity, before, after, prev]
        text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()
        con.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, seq]
        )
        prev = digest
    con.execute(
        "UPDATE ledger_meta SET value = ? WHERE key = 'audit_head'", [f"{len(rows)}:{prev}"]
    )
    con.execute("DROP TABLE cost_aggregates")  # schema 12's
    con.execute("DROP TABLE usage_monthly")
    con.execute("DELETE FROM ledger_meta WHERE key = 'cost_aggregates_settings'")
    con.execute("DELETE FROM ledger_meta WHERE key = 'usage_monthly_built'")
    for table in ("passwords", "api_tokens", "web_sessions"):  # schema 14's
        con.execute(f"DROP TABLE {table}")
    con.execute("ALTER TABLE initiatives DROP COLUMN case_band")  # schema 15's
    con.execute("DELETE FROM valuegap_schema WHERE version >= 11")
    con.close()
    return len(rows)


def test_a_ledger_written_before_is_proven_from_its_baseline(
    db_path: Path, clock: SteppingClock
) -> None:
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:
        ledger.governance.users.add_user("bob", "viewer")
        ledger.costs.ingest_usage(DATA / "usage-generic.csv", "csv", MAPPING)
    old = _written_before(db_path)
    with Ledger.open(db_path, actor="alice", clock=clock) as ledger:
        result = ledger.governance.audit.verify_audit()
        baseline = ledger.governance.audit.audit_log(limit=1)[0]
    assert result.ok, result.message
    assert (baseline.seq, baseline.action, baseline.actor) == (
        old + 1,
        "audit.baseline",
        "valuegap",
    )
    assert result.proven_from == old + 1
    assert f"the tables are as the log says from entry {old + 1}" in result.message
    with Ledger.open(db_path, actor="alice", clock=clock) as ledger:  # no second baseline
        assert len(ledger.governance.audit.audit_log()) == old + 1
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE users SET role = 'admin' WHERE name = 'bob'")
    con.execute("UPDATE usage_events SET input_tokens = 1 WHERE input_tokens = 2000")
    con.close()
    with Ledger.open(db_path, actor="alice") as ledger:
        result = ledger.governance.audit.verify_audit()
    assert not result.ok
    assert (
        f"users row 'bob': role is admin in the table, viewer by the log (entry {old + 1})"
        in result.message
    )


def test_a_baseline_after_entries_that_prove_the_tables_is_forged(ledger: Ledger) -> None:
    ledger.governance.users.add_user("bob", "viewer")
    with ledger.session.db.transaction():
        ledger.governance.audit.record_baseline()
    result = ledger.governance.audit.verify_audit()
    assert not result.ok
    assert result.bad_seq == 4
    assert "entry 4 is a baseline, but the entries before it already prove" in result.message


def test_a_column_a_later_schema_adds_is_not_taken_for_tampering(
    db_path: Path, clock: SteppingClock
) -> None:
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:
        ledger.governance.users.add_user("bob", "viewer")
        ledger.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal("2.5"),
            output_per_mtok=Decimal(10),
            valid_from=date(2025, 1, 1),
        )
    con = duckdb.connect(str(db_path))
    con.execute("ALTER TABLE users ADD COLUMN team VARCHAR DEFAULT 'core'")
    con.execute("ALTER TABLE price_overrides ALTER input_per_mtok SET DATA TYPE DECIMAL(38, 6)")
    con.close()
    with Ledger.open(db_path, actor="alice", clock=clock) as ledger:
        assert ledger.governance.audit.verify_audit().ok
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE users SET role = 'admin' WHERE name = 'bob'")
    con.close()
    with Ledger.open(db_path, actor="alice") as ledger:
        result = ledger.governance.audit.verify_audit()
    assert "users row 'bob': role is admin in the table, viewer by the log" in result.message

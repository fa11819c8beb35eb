from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb

from valuegap import Ledger
from valuegap.model.audit import GENESIS, seal


def test_entry_hash_is_sha256_of_its_fields_and_the_previous_hash() -> None:
    at = datetime(2026, 1, 5, 9, 0, 1)
    entry = seal(
        seq=1, at=at, actor="alice", action="user.save", entity_type="user", entity_id="bob",
        before=None, after={"role": "viewer", "name": "bob"}, prev_hash=GENESIS,
    )  # fmt: skip
    after = '{"name":"bob","role":"viewer"}'
    payload = json.dumps(
        [1, "2026-01-05T09:00:01", "alice", "user.save", "user", "bob", None, after, GENESIS],
        separators=(",", ":"),
    )
    assert entry.after == after
    assert entry.hash == hashlib.sha256(payload.encode()).hexdigest()


def _ledger_with_history(db_path: Path, clock: object) -> None:
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:  # type: ignore[arg-type]
        for name in ("bob", "carol", "dan", "erin"):
            ledger.governance.users.add_user(name, "viewer")


def _sql(db_path: Path, statement: str) -> None:
    con = duckdb.connect(str(db_path))
    con.execute(statement)
    con.close()


def _verify(db_path: Path) -> tuple[bool, int | None, str]:
    with Ledger.open(db_path, actor="alice") as ledger:
        result = ledger.governance.audit.verify_audit()
    return result.ok, result.bad_seq, result.message


def test_intact_chain_verifies(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    assert _verify(db_path) == (
        True,
        None,
        "the audit chain is intact (6 entries); the tables are as the log says from entry 1",
    )


def test_editing_one_row_names_that_entry(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    _sql(db_path, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    ok, seq, message = _verify(db_path)
    assert (ok, seq) == (False, 3)
    assert "entry 3 was edited" in message


def test_editing_and_rehashing_a_row_still_names_it(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    _sql(db_path, "UPDATE audit_log SET actor = 'mallory', hash = repeat('a', 64) WHERE seq = 2")
    ok, seq, _ = _verify(db_path)
    assert (ok, seq) == (False, 2)


def test_deleting_a_row_names_the_missing_entry(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    _sql(db_path, "DELETE FROM audit_log WHERE seq = 4")
    ok, seq, message = _verify(db_path)
    assert (ok, seq) == (False, 4)
    assert "entry 4 was deleted" in message


def test_deleting_the_newest_rows_is_detected(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    _sql(db_path, "DELETE FROM audit_log WHERE seq >= 4")
    ok, seq, message = _verify(db_path)
    assert (ok, seq) == (False, 4)
    assert "entries 4 to 6 were deleted" in message


def test_inserting_a_row_is_detected(db_path: Path, clock: object) -> None:
    _ledger_with_history(db_path, clock)
    _sql(db_path, "UPDATE audit_log SET seq = seq + 1 WHERE seq >= 3")
    _sql(
        db_path,
        "INSERT INTO audit_log SELECT 3, recorded_at, 'mallory', action, entity_type, entity_id, "
        "before, after, prev_hash, hash, state FROM audit_log WHERE seq = 2",
    )
    ok, seq, _ = _verify(db_path)
    assert ok is False and seq in (2, 3)

"""The tampering cases of issue 14, each done with DuckDB directly on the demo ledger after a
signed checkpoint, as someone who can write the file would; each must be found by
``audit verify --checkpoint``. Hashes are recomputed by the documented formula (docs/
governance.md): SHA-256 of the JSON array of the entry's fields, its state last when it has one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from valuegap import Ledger
from valuegap.cli import app
from valuegap.demo import build_demo
from valuegap.model.audit import GENESIS, Verification
from valuegap.settings import Settings

HEAD = 90  # the demo's 89 entries and the price set before the checkpoint


@dataclass(frozen=True)
class Signed:
    ledger: Path
    checkpoints: Path
    public_key: Path


@pytest.fixture(scope="module")
def signed_demo(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """The demo with an organisation price, and a checkpoint of its head; built once."""
    folder = tmp_path_factory.mktemp("signed-demo")
    path, key = folder / "demo.duckdb", folder / "council" / "audit-key.pem"
    settings = Settings(db=path, audit_key=str(key))
    build_demo(settings, actor="you")
    with Ledger.open(path, actor="you", settings=settings) as ledger:
        ledger.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal(2),
            output_per_mtok=Decimal(8),
            valid_from=date(2026, 1, 1),
        )
        ledger.governance.audit.checkpoint(str(folder / "checkpoints.jsonl"))
    return Signed(path, folder / "checkpoints.jsonl", key.with_suffix(".pub"))


@pytest.fixture
def copy(signed_demo: Signed, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "demo.duckdb"
    shutil.copy(signed_demo.ledger, target)
    yield target


def _tamper(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()


def _scalar(path: Path, sql: str) -> object:
    con = duckdb.connect(str(path), read_only=True)
    row = con.execute(sql).fetchone()
    con.close()
    assert row is not None
    return row[0]


def _verify(path: Path, signed: Signed) -> Verification:
    # The verifier holds only the public key: VALUEGAP_AUDIT_KEY points at an empty folder.
    with Ledger.open(path, actor="you") as ledger:
        return ledger.governance.audit.verify_audit(signed.checkpoints, signed.public_key)


def _rechain(con: duckdb.DuckDBPyConnection, start: int) -> None:
    """Recompute every hash from entry ``start`` on, and the head, by the documented formula."""
    prev = GENESIS
    if start > 1:
        found = con.execute("SELECT hash FROM audit_log WHERE seq = ?", [start - 1]).fetchone()
        assert found is not None
        prev = found[0]
    rows = con.execute(
        "SELECT seq, recorded_at, actor, action, entity_type, entity_id, before, after, state "
        "FROM audit_log WHERE seq >= ? ORDER BY seq",
        [start],
    ).fetchall()
    for seq, at, actor, action, kind, entity, before, after, state in rows:
        fields = [seq, at.isoformat(), actor, action, kind, entity, before, after, prev]
        if state is not None:
            fields.append(state)
        text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()
        con.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, seq]
        )
        prev = digest
    last = con.execute("SELECT max(seq) FROM audit_log").fetchone()
    assert last is not None
    con.execute("UPDATE ledger_meta SET value = ? WHERE key = 'audit_head'", [f"{last[0]}:{prev}"])


def _rechained(path: Path, start: int, *statements: str) -> None:
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    _rechain(con, start)
    con.close()


def _found(result: Verification, *fragments: str) -> None:
    assert result.ok is False, result.message
    for fragment in fragments:
        assert fragment in result.message


@pytest.fixture
def signed(signed_demo: Signed) -> Signed:
    return signed_demo


def test_the_untampered_demo_verifies_against_its_checkpoint(copy: Path, signed: Signed) -> None:
    result = _verify(copy, signed)
    assert result.ok, result.message
    assert (result.entries, result.proven_from, result.checkpoints) == (HEAD, 1, 1)


# The log itself


def test_edit_an_entrys_content(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 10")
    result = _verify(copy, signed)
    _found(result, "entry 10 was edited: its content no longer matches its hash")
    assert result.bad_seq == 10


def test_edit_an_entry_and_rehash_it(copy: Path, signed: Signed) -> None:
    con = duckdb.connect(str(copy))
    row = con.execute(
        "SELECT seq, recorded_at, actor, action, entity_type, entity_id, before, after, "
        "prev_hash, state FROM audit_log WHERE seq = 10"
    ).fetchone()
    assert row is not None
    seq, at, _, action, kind, entity, before, after, prev, state = row
    fields = [seq, at.isoformat(), "mallory", action, kind, entity, before, after, prev]
    if state is not None:
        fields.append(state)
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    con.execute("UPDATE audit_log SET actor = 'mallory', hash = ? WHERE seq = 10", [digest])
    con.close()
    result = _verify(copy, signed)
    _found(result, "entry 10 was edited or replaced: entry 11 no longer links to it")
    assert result.bad_seq == 10


def test_edit_the_last_entry_and_the_head(copy: Path, signed: Signed) -> None:
    _rechained(copy, HEAD, f"UPDATE audit_log SET actor = 'mallory' WHERE seq = {HEAD}")
    result = _verify(copy, signed)
    _found(result, f"entry {HEAD} is not the entry checkpoint 1 (entry {HEAD}, signed")
    assert result.bad_seq == HEAD


def test_delete_a_middle_entry(copy: Path, signed: Signed) -> None:
    _tamper(copy, "DELETE FROM audit_log WHERE seq = 40")
    result = _verify(copy, signed)
    _found(result, "entry 40 was deleted: the chain jumps from entry 39 to entry 41")


def test_delete_the_newest_entries_and_the_head(copy: Path, signed: Signed) -> None:
    _rechained(copy, 80, "DELETE FROM audit_log WHERE seq > 80")
    result = _verify(copy, signed)
    _found(result, f"the log ends at entry 80, but checkpoint 1 (entry {HEAD}", "were deleted")


def test_insert_an_entry_with_a_recomputed_chain(copy: Path, signed: Signed) -> None:
    _rechained(
        copy,
        30,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 30",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1030",
        "INSERT INTO audit_log SELECT 30, recorded_at, 'mallory', action, entity_type, "
        "entity_id, before, after, prev_hash, hash, state FROM audit_log WHERE seq = 29",
    )
    result = _verify(copy, signed)
    _found(result, f"entry {HEAD} is not the entry checkpoint 1", "chain recomputed")


def test_reorder_two_entries_with_a_recomputed_chain(copy: Path, signed: Signed) -> None:
    _rechained(
        copy,
        30,
        "UPDATE audit_log SET seq = 1000 WHERE seq = 30",
        "UPDATE audit_log SET seq = 30 WHERE seq = 31",
        "UPDATE audit_log SET seq = 31 WHERE seq = 1000",
    )
    result = _verify(copy, signed)
    _found(result, f"entry {HEAD} is not the entry checkpoint 1")


def test_append_a_forged_entry_with_its_hash_and_the_head(copy: Path, signed: Signed) -> None:
    # It claims mallory was made an admin, and keeps the row it claims, as a real entry does.
    state = json.dumps(
        {"rows": [{"table": "users", "where": {"name": "mallory"}, "rows": [
            {"name": "mallory", "role": "admin", "units": "[]",
             "added_at": "2026-02-01T09:00:00", "added_by": "you"}]}]},
        sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    _rechained(
        copy,
        HEAD + 1,
        f"INSERT INTO audit_log VALUES ({HEAD + 1}, TIMESTAMP '2026-02-01 09:00:00', 'you', "
        "'user.save', 'user', 'mallory', NULL, "
        f'\'{{"name":"mallory","role":"admin","units":[]}}\', \'\', \'\', \'{state}\')',
    )
    result = _verify(copy, signed)
    _found(result, f"users row 'mallory' is not in the table, but entry {HEAD + 1} made it")


def test_recompute_the_whole_chain_after_an_edit(copy: Path, signed: Signed) -> None:
    _rechained(copy, 1, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 5")
    result = _verify(copy, signed)
    _found(result, f"entry {HEAD} is not the entry checkpoint 1")


def test_delete_from_audit_log(copy: Path, signed: Signed) -> None:
    _tamper(copy, "DELETE FROM audit_log", "DELETE FROM ledger_meta WHERE key = 'audit_head'")
    result = _verify(copy, signed)
    _found(result, f"the log ends at entry 0, but checkpoint 1 (entry {HEAD}")


def test_delete_from_audit_log_without_a_checkpoint_leaves_the_tables_unproven(
    copy: Path,
) -> None:
    _tamper(copy, "DELETE FROM audit_log", "DELETE FROM ledger_meta WHERE key = 'audit_head'")
    with Ledger.open(copy, actor="you") as ledger:
        result = ledger.governance.audit.verify_audit()
    # users come first, in name order
    _found(result, "users row 'ana.costa' is in the table, but no entry of the log made it")


def test_drop_and_recreate_the_audit_table(copy: Path, signed: Signed) -> None:
    ddl = _scalar(copy, "SELECT sql FROM duckdb_tables() WHERE table_name = 'audit_log'")
    _tamper(
        copy,
        "DROP TABLE audit_log",
        str(ddl),
        "DELETE FROM ledger_meta WHERE key = 'audit_head'",
    )
    result = _verify(copy, signed)
    _found(result, f"the log ends at entry 0, but checkpoint 1 (entry {HEAD}")


def test_wipe_the_log_and_ask_for_a_baseline(copy: Path, signed: Signed) -> None:
    # A baseline is what an upgraded ledger records: here it would make the tampered tables
    # the log's word, but it cannot sit where the checkpoint signed entry 85.
    _tamper(
        copy,
        "UPDATE users SET role = 'admin' WHERE name = 'ana.costa'",
        "DELETE FROM audit_log",
        "DELETE FROM ledger_meta WHERE key = 'audit_head'",
        "INSERT INTO ledger_meta VALUES ('audit_baseline', 'pending')",
    )
    result = _verify(copy, signed)
    _found(result, f"the log ends at entry 1, but checkpoint 1 (entry {HEAD}")


# The definition tables


def test_update_users_set_role_admin(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE users SET role = 'admin' WHERE name = 'ana.costa'")
    _found(
        _verify(copy, signed),
        "users row 'ana.costa': role is admin in the table, contributor by the log (entry 3)",
    )


def test_insert_a_user(copy: Path, signed: Signed) -> None:
    _tamper(
        copy,
        "INSERT INTO users VALUES ('mallory', 'admin', '[]', TIMESTAMP '2026-01-01', 'you', NULL)",
    )
    _found(_verify(copy, signed), "users row 'mallory' is in the table, but no entry")


def test_delete_a_user(copy: Path, signed: Signed) -> None:
    # Entries 1 and 2 make the ledger and its default policy; the demo's people follow in
    # order: ana.costa 3, omar.haddad 4, lena.fischer 5, finn.berg 6, grace.okafor 7, ...
    _tamper(copy, "DELETE FROM users WHERE name = 'grace.okafor'")
    _found(_verify(copy, signed), "users row 'grace.okafor' is not in the table, but entry 7")


def test_edit_an_initiatives_stage(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE initiatives SET stage = 'scaled' WHERE id = 'refund-agent'")
    _found(
        _verify(copy, signed),
        "initiatives row 'refund-agent': stage is scaled in the table, mvp by the log",
    )


@pytest.mark.parametrize(
    ("column", "forged", "agreed"),
    [
        ("agreed_by", "'Mallory'", "Finn Berg (Finance)"),
        ("agreed_at", "DATE '2020-01-01'", "2025-01-16"),
        ("agreement_recorded_at", "TIMESTAMP '2020-01-01'", "2025-01-16T09:00:01"),
    ],
)
def test_edit_a_metrics_agreement(
    copy: Path, signed: Signed, column: str, forged: str, agreed: str
) -> None:
    _tamper(copy, f"UPDATE metrics SET {column} = {forged} WHERE id = 'loc-qa-errors'")
    shown = {"agreed_by": "Mallory", "agreed_at": "2020-01-01"}.get(column, "2020-01-01T00:00:00")
    _found(
        _verify(copy, signed),
        f"metrics row 'loc-qa-errors': {column} is {shown} in the table, {agreed} by the log",
    )


def test_edit_a_control_attestation(copy: Path, signed: Signed) -> None:
    _tamper(
        copy,
        "UPDATE control_attestations SET attested_by = 'mallory' "
        "WHERE initiative_id = 'doc-classifier' AND control = 'human_authority'",
    )
    _found(
        _verify(copy, signed),
        "control_attestations row 'doc-classifier' / 'human_authority': attested_by is mallory "
        "in the table, omar.haddad by the log",
    )


def test_edit_a_price_override(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE price_overrides SET input_per_mtok = 0.01 WHERE model = 'gpt-4o'")
    _found(
        _verify(copy, signed),
        "price_overrides row 'gpt-4o' / '' / '2026-01-01': input_per_mtok is 0.01 in the table, "
        f"2 by the log (entry {HEAD})",
    )


def test_edit_a_policy(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE policies SET rules = '[]' WHERE layer = 'enterprise'")
    _found(_verify(copy, signed), "policies row 'enterprise' / '' / 1: rules is [] in the table")


def test_approve_a_request_in_the_table(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE approvals SET status = 'approved' WHERE id = 1")
    _found(_verify(copy, signed), "approvals row 1: status is approved in the table, pending")


def test_delete_a_stage_move(copy: Path, signed: Signed) -> None:
    _tamper(copy, "DELETE FROM stage_history WHERE initiative_id = 'loc-qa' AND seq = 2")
    _found(_verify(copy, signed), "stage_history row 'loc-qa' / 2 is not in the table")


# The facts: each total per month is worked out here in plain SQL, before the tampering.

FIRST_EVENT = "(SELECT event_key FROM usage_events ORDER BY ts, event_key LIMIT 1)"
FIRST_LINE = "(SELECT line_hash FROM focus_lines ORDER BY charge_period_start, line_hash LIMIT 1)"


def _january(path: Path, sql: str) -> Decimal:
    return Decimal(str(_scalar(path, sql)))


def _shown(value: Decimal) -> str:
    """As people read it: 2.670000 -> 2.67."""
    return format(value.normalize(), "f")


def test_edit_a_usage_events_cost(copy: Path, signed: Signed) -> None:
    before = _january(
        copy, "SELECT sum(computed_cost) FROM usage_events WHERE ts < DATE '2025-02-01'"
    )
    _tamper(
        copy,
        f"UPDATE usage_events SET computed_cost = computed_cost + 0.5 "
        f"WHERE event_key = {FIRST_EVENT}",
    )
    _found(
        _verify(copy, signed),
        f"usage_events, 2025-01: computed_cost USD totals {_shown(before + Decimal('0.5'))} in "
        f"the table, {_shown(before)} by the log's ingests",
    )


def test_edit_a_focus_lines_effective_cost(copy: Path, signed: Signed) -> None:
    before = _january(
        copy,
        "SELECT sum(effective_cost) FROM focus_lines WHERE charge_period_start < '2025-02-01'",
    )
    _tamper(
        copy,
        f"UPDATE focus_lines SET effective_cost = effective_cost - 1000 "
        f"WHERE line_hash = {FIRST_LINE}",
    )
    _found(
        _verify(copy, signed),
        f"focus_lines, 2025-01: effective_cost USD totals {_shown(before - 1000)} in the table, "
        f"{_shown(before)} by the log's ingests",
    )


def test_delete_a_focus_line(copy: Path, signed: Signed) -> None:
    lines = _january(
        copy, "SELECT count(*) FROM focus_lines WHERE charge_period_start < '2025-02-01'"
    )
    _tamper(copy, f"DELETE FROM focus_lines WHERE line_hash = {FIRST_LINE}")
    _found(
        _verify(copy, signed),
        f"focus_lines, 2025-01: rows totals {lines - 1} in the table, {lines} by the log's",
    )


def test_insert_a_usage_event(copy: Path, signed: Signed) -> None:
    events = _january(copy, "SELECT count(*) FROM usage_events WHERE ts < DATE '2025-02-01'")
    _tamper(
        copy,
        "INSERT INTO usage_events SELECT * REPLACE ('forged' AS event_key) FROM usage_events "
        f"WHERE event_key = {FIRST_EVENT}",
    )
    _found(
        _verify(copy, signed),
        f"usage_events, 2025-01: rows totals {events + 1} in the table, {events} by the log's",
    )


def test_edit_a_manual_cost(copy: Path, signed: Signed) -> None:
    before = _january(
        copy,
        "SELECT sum(amount) FROM manual_costs WHERE month = DATE '2025-01-01' AND currency = 'USD'",
    )
    _tamper(
        copy,
        "UPDATE manual_costs SET amount = amount + 7 WHERE entry_key = (SELECT min(entry_key) "
        "FROM manual_costs WHERE month = DATE '2025-01-01' AND currency = 'USD') "
        "AND month = DATE '2025-01-01'",
    )
    _found(
        _verify(copy, signed),
        f"manual_costs, 2025-01: amount USD totals {_shown(before + 7)} in the table, "
        f"{_shown(before)} by",
    )


def test_the_cli_says_tampered_and_exits_1(copy: Path, signed: Signed) -> None:
    _tamper(copy, "UPDATE users SET role = 'admin' WHERE name = 'ana.costa'")
    args = ["audit", "verify", "--checkpoint", str(signed.checkpoints)]
    keys = ["--public-key", str(signed.public_key), "--db", str(copy), "--as", "you"]
    result = CliRunner().invoke(app, [*args, *keys])
    assert result.exit_code == 1
    assert "TAMPERED: users row 'ana.costa': role is admin in the table" in result.output


def test_the_log_still_extends_its_checkpoint_after_more_changes(
    copy: Path, signed: Signed
) -> None:
    data = Path(__file__).parent.parent / "data"
    with Ledger.open(copy, actor="you") as ledger:
        ledger.acting_as("grace.okafor").governance.gates.reject(
            1, "Bring the regional rollout plan first."
        )
        finance = ledger.acting_as("finn.berg")
        assert finance.costs.prices.unset_price("gpt-4o", valid_from=date(2026, 1, 1)) > 0
        finance.costs.prices.refresh_prices()
        finance.costs.ingest_costs(data / "manual-costs.csv")
        mapping = {"timestamp": "ts", "request_model": "model_name", "provider": "vendor",
                   "input_tokens": "in_tok", "output_tokens": "out_tok"}  # fmt: skip
        finance.costs.ingest_usage(data / "usage-generic.csv", "csv", mapping)
        ledger.governance.users.add_user("zoe", "viewer")
        entries = len(ledger.governance.audit.audit_log())
    result = _verify(copy, signed)
    assert result.ok, result.message
    assert (result.entries, result.checkpoints) == (entries, 1)
    assert entries == HEAD + 6

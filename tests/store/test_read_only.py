"""A ledger opened read-only writes nothing, refuses changes by name, and is upgraded first when
it needs it; a process that cannot get the file says who holds it (issue 16). Several
processes at once: tests/cli/test_processes.py."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from valuegap import Ledger
from valuegap.costs.aggregates import fingerprint
from valuegap.errors import ConfigError
from valuegap.store import Database, file_lock
from valuegap.store.aggregates import AggregateStore
from valuegap.store.migrations import MIGRATIONS, Migration

DATA = Path(__file__).parent.parent / "data"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_a_read_only_ledger_leaves_the_file_as_it_was(
    db_path: Path, example_portfolio: Path
) -> None:
    with Ledger.init(db_path, actor="alice") as ledger:
        ledger.portfolio.apply_file(example_portfolio)
        ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
    before = _digest(db_path)

    with Ledger.open(db_path, actor="alice", read_only=True) as ledger:
        assert ledger.portfolio.initiatives()
        assert ledger.costs.cost_report(["initiative"])
        assert ledger.outcomes.portfolio_report()
        assert ledger.governance.audit.verify_audit().ok

    assert _digest(db_path) == before
    assert not db_path.with_name(db_path.name + ".wal").exists()


def test_a_change_to_a_read_only_ledger_is_refused_naming_why(db_path: Path) -> None:
    Ledger.init(db_path, actor="alice").close()
    with (
        Ledger.open(db_path, actor="alice", read_only=True) as ledger,
        pytest.raises(ConfigError, match=r"opened read-only \(read_only=True\)"),
    ):
        ledger.governance.users.add_user("bob", "viewer")
    with Ledger.open(db_path, actor="alice") as ledger:
        assert [u.name for u in ledger.governance.users.users()] == ["alice"]


def test_a_ledger_that_needs_an_upgrade_is_upgraded_then_read(
    db_path: Path, example_portfolio: Path
) -> None:
    """A read-only open of a ledger from before the aggregates (schema 11) opens it to write
    once, for the upgrade, then reads."""
    with Ledger.init(db_path, actor="alice") as ledger:
        ledger.portfolio.apply_file(example_portfolio)
        ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
    con = duckdb.connect(str(db_path))  # as schema 11 left it: no aggregates
    con.execute("DROP TABLE cost_aggregates")
    con.execute("DROP TABLE usage_monthly")
    con.execute("DELETE FROM ledger_meta WHERE key LIKE '%_aggregates_settings'")
    con.execute("DELETE FROM ledger_meta WHERE key = 'usage_monthly_built'")
    for table in ("passwords", "api_tokens", "web_sessions"):  # schema 14's
        con.execute(f"DROP TABLE {table}")
    con.execute("ALTER TABLE initiatives DROP COLUMN case_band")  # schema 15's
    con.execute("DELETE FROM valuegap_schema WHERE version >= 12")
    con.close()

    with Ledger.open(db_path, actor="alice", read_only=True) as ledger:
        assert ledger.session.db.read_only
        assert ledger.session.db.schema_version == MIGRATIONS[-1].version
        assert AggregateStore(ledger.session.db).built_for() == fingerprint(ledger.settings)
        assert ledger.costs.cost_report(["initiative"])


def test_a_read_only_database_says_it_needs_migrations_and_changes_nothing(
    db_path: Path,
) -> None:
    Database.open(db_path, create=True).close()
    before = _digest(db_path)
    later = Migration(MIGRATIONS[-1].version + 1, "test: a later schema", ("SELECT 1",))

    current = Database.open(db_path, create=False, read_only=True)
    assert not current.schema_outdated
    current.close()
    older = Database.open(db_path, create=False, read_only=True, migrations=[*MIGRATIONS, later])
    assert older.schema_outdated
    older.close()

    assert _digest(db_path) == before


def test_a_read_only_open_of_a_database_that_is_not_a_ledger_is_refused(db_path: Path) -> None:
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE sales (id INTEGER)")
    con.close()
    with pytest.raises(ConfigError, match="not a valuegap ledger"):
        Ledger.open(db_path, actor="alice", read_only=True)


def test_a_reader_beside_a_writer_in_one_process(db_path: Path) -> None:
    """In one process both share DuckDB's instance of the file: the reader sees what the
    writer commits and refuses changes itself."""
    with (
        Ledger.init(db_path, actor="alice") as writer,
        Ledger.open(db_path, actor="alice", read_only=True) as reader,
    ):
        writer.governance.users.add_user("bob", "viewer")
        assert {u.name for u in reader.governance.users.users()} == {"alice", "bob"}
        with pytest.raises(ConfigError, match="read-only"):
            reader.governance.users.add_user("carol", "viewer")


def test_opening_to_write_while_this_process_reads_is_refused_clearly(db_path: Path) -> None:
    Ledger.init(db_path, actor="alice").close()
    with (
        Ledger.open(db_path, actor="alice", read_only=True),
        pytest.raises(ConfigError, match="open read-only; close those ledgers"),
    ):
        Ledger.open(db_path, actor="alice")


def test_the_holder_is_named_by_pid_and_command_line() -> None:
    error = (
        'IO Error: Could not set lock on file "/tmp/x.duckdb": Conflicting lock is held in '
        f"/usr/bin/python3.12 (PID {os.getpid()}). See also https://duckdb.org/docs"
    )
    shown = file_lock._command_line(os.getpid()) or "/usr/bin/python3.12"  # no /proc: DuckDB's
    assert file_lock._holder(error) == f"PID {os.getpid()} ({shown})"
    assert file_lock._holder("IO Error: Conflicting lock is held") == "another process"


def test_a_command_line_is_shown_as_typed() -> None:
    raw = b"/venv/bin/python3\0/venv/bin/valuegap\0report\0costs\0--db\0x.duckdb\0"
    assert file_lock._readable(raw) == "valuegap report costs --db x.duckdb"
    assert file_lock._readable(b"/usr/bin/python3\0-c\0pass\0") == "python3 -c pass"
    assert file_lock._readable(b"x" * 500).endswith("…")

"""The read cache forgets at a commit only the reads of the tables it wrote, never keeps a
stale read, and reads a value missed by many threads at once only once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.store.database import Database
from valuegap.store.read_cache import (
    ANY_TABLE,
    EVERY_TABLE,
    MISSING,
    NO_TABLE,
    Cached,
    ReadCache,
    changes,
    written,
)

USERS, POLICIES = frozenset({"users"}), frozenset({"policies"})


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("INSERT INTO usage_events (a) SELECT 1", "usage_events"),
        ("insert or replace into ledger_meta (key, value) values (?, ?)", "ledger_meta"),
        ('INSERT OR IGNORE INTO main."Users" VALUES (1)', "users"),
        ("  UPDATE initiatives SET stage = ? WHERE id = ?", "initiatives"),
        ("DELETE FROM budget_spend WHERE budget = ?", "budget_spend"),
        ("CREATE OR REPLACE TEMP TABLE _valuegap_rates (a INT)", "_valuegap_rates"),
        ("CREATE TABLE IF NOT EXISTS x AS SELECT * FROM users", "x"),
        ("DROP TABLE IF EXISTS _valuegap_pseudonyms", "_valuegap_pseudonyms"),
        ("DROP VIEW _valuegap_usage", "_valuegap_usage"),
        ("DELETE FROM web_sessions WHERE expires_at <= ?;", "web_sessions"),
    ],
)
def test_a_write_names_the_table_it_writes(sql: str, table: str) -> None:
    assert written(sql) == frozenset({table})


@pytest.mark.parametrize(
    "sql",
    [
        "WITH old AS (SELECT 1) INSERT INTO users SELECT * FROM old",
        "ALTER TABLE users ADD COLUMN agent VARCHAR",
        "DELETE FROM users; DELETE FROM policies",
        "CHECKPOINT",
        "COPY users FROM 'users.csv'",
    ],
)
def test_a_write_whose_table_is_not_plain_writes_every_table(sql: str) -> None:
    assert written(sql) == EVERY_TABLE
    assert changes(written(sql), USERS)


def test_a_commit_forgets_only_the_reads_of_the_tables_it_wrote() -> None:
    cache = ReadCache()
    cache.store("user", "alice", cache.generation, USERS)
    cache.store("policies", ["enterprise"], cache.generation, POLICIES)
    cache.store("report", "every table", cache.generation)  # names no table: EVERY_TABLE
    cache.committed(written=frozenset({"usage_events", "budget_spend"}), learned={})
    assert (cache.get("user"), cache.get("policies")) == ("alice", ["enterprise"])
    assert cache.get("report") is MISSING
    cache.committed(written=frozenset({"users"}), learned={})
    assert (cache.get("user"), cache.get("policies")) == (MISSING, ["enterprise"])
    cache.committed(written=EVERY_TABLE, learned={})
    assert cache.get("policies") is MISSING


def test_a_read_is_not_stored_if_a_commit_wrote_its_tables_while_it_read() -> None:
    cache = ReadCache()
    began = cache.generation  # two reads start
    cache.committed(written=frozenset({"usage_events"}), learned={})  # a commit meanwhile
    cache.store("user", "alice", began, USERS)  # read nothing it wrote: kept
    cache.store("everything", "all", began)  # may have read what it wrote: not kept
    assert (cache.get("user"), cache.get("everything")) == ("alice", MISSING)
    began = cache.generation
    cache.committed(written=USERS, learned={})
    cache.store("user", "alice as before", began, USERS)
    assert cache.get("user") is MISSING


# The invariant, over any interleaving: what the cache gives is what the tables hold now.

TABLES = ("users", "policies", "usage_events")
HEAD = "head_row"  # what a commit learns without a write the cache hears of (the audit head)
KEYS: dict[str, frozenset[str]] = {
    "user": USERS,
    "policies": POLICIES,
    "both": USERS | POLICIES,
    "report": EVERY_TABLE,  # every table but the head's, which only the head's key reads
    "head": frozenset({HEAD}),
}
_steps = st.one_of(
    st.tuples(st.just("begin"), st.sampled_from(sorted(KEYS))),
    st.tuples(st.just("end"), st.integers(0, 3)),
    st.tuples(st.just("commit"), st.sets(st.sampled_from([*TABLES, ANY_TABLE]), max_size=2)),
    st.tuples(st.just("get"), st.sampled_from(sorted(KEYS))),
    st.tuples(st.just("learn"), st.just("head")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_steps, max_size=40))
@example([("begin", "head"), ("learn", "head"), ("end", 0), ("get", "head")])
def test_the_cache_never_gives_a_value_older_than_its_tables(steps: list[Any]) -> None:
    """Tables change by commits, which write them or learn a new value read from them (the
    audit head moves without a write the cache hears of); readers begin (reading the tables
    as they are) and end (storing what they read) in any order; whatever the cache gives is
    the tables' now."""
    cache = ReadCache()
    versions = dict.fromkeys((*TABLES, HEAD), 0)
    reading: list[tuple[str, int, tuple[int, ...]]] = []

    def now(key: str) -> tuple[int, ...]:
        tables = KEYS[key]
        every = ANY_TABLE in tables
        return tuple(v for t, v in versions.items() if t in tables or (every and t != HEAD))

    for step, arg in steps:
        if step == "begin":
            reading.append((arg, cache.generation, now(arg)))
        elif step == "end" and reading:
            key, generation, value = reading.pop(arg % len(reading))
            cache.store(key, value, generation, KEYS[key])
        elif step == "commit":
            wrote = frozenset(arg)
            for table in versions:
                if ANY_TABLE in wrote or table in wrote:
                    versions[table] += 1
            cache.committed(written=wrote, learned={})
        elif step == "learn":
            versions[HEAD] += 1
            cache.committed(written=NO_TABLE, learned={arg: Cached(now(arg), KEYS[arg])})
        elif step == "get":
            found = cache.get(arg)
            assert found is MISSING or found == now(arg)


def test_threads_that_miss_one_read_at_once_read_it_once() -> None:
    cache = ReadCache()
    reads: list[int] = []
    release = threading.Event()

    def read() -> str:
        reads.append(1)
        assert release.wait(10)
        return "alice"

    found: list[str] = []
    threads = [
        threading.Thread(target=lambda: found.append(cache.read("user", read, USERS)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(10)
    assert found == ["alice"] * 8
    assert len(reads) == 1


def test_who_waited_for_a_read_that_was_not_kept_reads_again() -> None:
    """A commit of the read's tables came while it read: the value was not stored (it may be
    stale), and the threads that waited for it read the tables themselves."""
    cache = ReadCache()
    started, release = threading.Event(), threading.Event()
    values = iter(["alice as before", "alice now"])

    def read() -> str:
        if not started.is_set():
            started.set()
            assert release.wait(10)
        return next(values)

    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(cache.read("user", read, USERS)))
    reader.start()
    assert started.wait(10)
    waited: list[str] = []
    waiter = threading.Thread(target=lambda: waited.append(cache.read("user", read, USERS)))
    waiter.start()
    cache.committed(written=USERS, learned={})
    release.set()
    reader.join(10)
    waiter.join(10)
    assert first == ["alice as before"]  # answered as read, as any read in progress
    assert waited == ["alice now"]
    assert cache.get("user") == "alice now"


def test_a_failed_read_is_read_again_by_who_waited() -> None:
    cache = ReadCache()
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(10)
        raise duckdb.IOException("the disk went away")

    failed: list[BaseException] = []

    def first() -> None:
        try:
            cache.read("user", failing, USERS)
        except duckdb.IOException as error:
            failed.append(error)

    reader = threading.Thread(target=first)
    reader.start()
    assert started.wait(10)
    waited: list[str] = []
    waiter = threading.Thread(
        target=lambda: waited.append(cache.read("user", lambda: "alice", USERS))
    )
    waiter.start()
    release.set()
    reader.join(10)
    waiter.join(10)
    assert len(failed) == 1 and waited == ["alice"]


# On a ledger: what a usage ingest keeps, and whether each cached read names its tables.

USAGE = "event_id,timestamp,provider,model,input_tokens,output_tokens,cost,currency,initiative"


def _a_year_of_usage(path: Path, calls: int = 24_000) -> Path:
    rows = [
        f"y-{n},2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00Z,openai,gpt-4o-mini,"
        f"{100 + n % 900},{n % 50},,USD,refunds"
        for n in range(calls)
    ]
    path.write_text("\n".join([USAGE, *rows]) + "\n")
    return path


@contextmanager
def _reads_of(db: Database) -> Iterator[list[str]]:
    """The statements that ``db``'s reads run meanwhile (any thread)."""
    statements: list[str] = []
    all_, one = Database.all, Database.one

    def recorded_all(self: Database, sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return all_(self, sql, *args, **kwargs)

    def recorded_one(self: Database, sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return one(self, sql, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Database, "all", recorded_all)
        patch.setattr(Database, "one", recorded_one)
        yield statements


def test_a_usage_ingest_keeps_what_decisions_read(agent: Ledger, tmp_path: Path) -> None:
    """A year of usage ingested (as an OTLP drain ingests spans) writes usage events and
    their sums: the agent's next decision reads again only the spend of hard-limited
    budgets, not the initiative, the policies, its account or the approval requests. With a
    cache that forgot everything at every commit, it read them all again."""
    admin = agent.acting_as("alice")
    admin.costs.budgets.set_budget(
        "refunds-cap", "initiative", "refunds", Decimal("1000000"), hard_limit=True
    )
    order = iter(range(1000))

    def decide() -> str:
        amount, context = Decimal("350"), {"order": f"o-{next(order)}"}
        return agent.agents.authorize("refunds", "issue_refund", amount, context).decision

    assert decide() == "needs_approval"
    added = admin.costs.ingest_usage(_a_year_of_usage(tmp_path / "year.csv"), "csv")
    assert added.rows_added == 24_000
    with _reads_of(agent.session.db) as statements:
        assert decide() == "needs_approval"
    read_again = " ".join(statements)
    assert "budget_spend" in read_again  # the spend, which the ingest changed
    for kept in ("initiatives", "policies", "users", "agent_approvals", "stage_history"):
        assert kept not in read_again, kept
    assert agent.governance.audit.verify_audit().ok


def _tables_read(connection: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """The ledger's tables that the statement ``sql`` names (DuckDB's parse of it)."""
    tree = json.loads(connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    assert not tree["error"], (sql, tree)
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                names.add(str(node["table_name"]).lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return names


# The cached reads that name their tables (by their keys' names).
NAMING_THEIR_TABLES = {
    "user",
    "api_token",
    "policies",
    "policies_compiled",
    "initiatives",
    "initiative",
    "attestations",
    "stages_entered",
    "latest_review",
    "initiative_context",
    "agent_context",
    "spent_limits",
    "rule_set",
    "currency_rates",
    "org_units",
    "cost_aggregates_settings",
    "audit_head",
    "pending_agent_approvals",
}


def test_every_cached_read_names_every_table_it_reads(demo_copy: Path, tmp_path: Path) -> None:
    """Each read that names its tables (all but a few costly reports', which name none, and
    are forgotten at any write) reads only those: else a write of another would leave it
    stale. Checked on the demo ledger, walking what decisions, tokens and reports read."""
    named: dict[Hashable, set[str]] = {}  # a cached read's key name: the tables it names
    read: dict[Hashable, set[str]] = {}  # and the tables its statements read
    local = threading.local()
    cached, all_, one = Database.cached, Database.all, Database.one

    def name_of(key: Hashable) -> Hashable:
        name = key[0] if isinstance(key, tuple) else key
        return name.split(" ")[0] if isinstance(name, str) else name

    def watched(
        self: Database,
        key: Hashable,
        read_: Callable[[], Any],
        tables: frozenset[str] = EVERY_TABLE,
    ) -> Any:
        def reading() -> Any:
            stack = local.__dict__.setdefault("stack", [])
            stack.append(name_of(key))
            try:
                return read_()
            finally:
                stack.pop()

        if ANY_TABLE not in tables:
            named.setdefault(name_of(key), set()).update(tables)
        return cached(self, key, reading, tables)

    def statement(run: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: Database, sql: str, *args: Any, **kwargs: Any) -> Any:
            for name in getattr(local, "stack", []):
                read.setdefault(name, set()).add(sql)
            return run(self, sql, *args, **kwargs)

        return recorded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Database, "cached", watched)
        patch.setattr(Database, "all", statement(all_))
        patch.setattr(Database, "one", statement(one))
        with Ledger.open(demo_copy, actor="you") as ledger:
            _walk_what_is_cached(ledger, tmp_path)
            connection = duckdb.connect()
            tables = {
                str(r["table_name"]).lower()
                for r in all_(ledger.session.db, "SELECT table_name FROM duckdb_tables()")
            }
    assert set(named) >= NAMING_THEIR_TABLES  # the walk reached them all
    for name, statements in read.items():
        if name not in named:
            continue
        found = set().union(*(_tables_read(connection, sql) for sql in statements)) & tables
        assert found <= named[name], (name, found - named[name])


def _walk_what_is_cached(ledger: Ledger, tmp_path: Path) -> None:
    """Decisions of an agent, a token checked, and the reports that read cached values."""
    from tests.conftest import AGENT, ready

    ledger.portfolio.add_initiative(ready("refunds", kind="agent", business_unit="service"))
    ledger.agents.register_agent("refunds", AGENT)
    ledger.governance.gates.advance("refunds", "poc")
    ledger.governance.gates.advance("refunds", "mvp")
    ledger.governance.users.add_user("svc", "contributor", ["service"])
    ledger.costs.budgets.set_budget(
        "refunds-cap", "initiative", "refunds", Decimal("1000"), hard_limit=True
    )
    made = ledger.governance.credentials.create_token("svc")
    assert ledger.governance.credentials.user_for_token(made.secret) is not None
    agent = ledger.acting_as("svc")
    for amount in ("45.90", "350", "1500"):
        agent.agents.authorize("refunds", "issue_refund", Decimal(amount), {"order": amount})
    ledger.outcomes.portfolio_report()
    ledger.costs.allocation_rules()
    ledger.costs.cost_report(["initiative"])
    ledger.adoption.adoption_report()

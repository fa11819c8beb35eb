"""The DuckDB file: opening it, migrating its schema, and transactions.

Many threads share one ``Database``: writes run on its one write connection under the file's
``Writer`` (store/writer.py), one transaction at a time; reads outside a write run on the
calling thread's own cursor and do not wait for the writer (but to move the journal's
batches, before a read of what they change); agents' decisions hold the audit chain, not the
writer (``journaled``). A ``Database`` opened read-only
writes nothing, so that other processes may read the file at the same time
(store/file_lock.py)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import duckdb

from valuegap.errors import ConfigError
from valuegap.model.audit import GENESIS
from valuegap.store import file_lock
from valuegap.store.committing import committed
from valuegap.store.journal import Batch, Journal, Taken
from valuegap.store.literals import literal
from valuegap.store.read_cache import (
    EVERY_TABLE,
    MISSING,
    NO_TABLE,
    Cached,
    changes,
    written,
)
from valuegap.store.writer import Commit, Writer, release, writer_of

if TYPE_CHECKING:
    from valuegap.store.migrations import Migration

T = TypeVar("T")
R = TypeVar("R")

# The last migration's version (store/migrations.py; a test holds them equal): opening a
# ledger already at it does not import the migrations.
SCHEMA_VERSION = 22
LEDGER_ID = "ledger_id"  # ledger_meta: the ledger's id, made by migration 13
META_TABLES = frozenset({"ledger_meta"})  # what get_meta() reads, for the read cache


class _ThreadState(threading.local):
    """What one thread is doing with this handle."""

    def __init__(self) -> None:
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.writing = 0  # nested writing() blocks: the thread is the writer
        self.depth = 0  # nested transactions
        self.pending: dict[Hashable, Cached] = {}  # cached in the transaction, kept at commit
        self.written = NO_TABLE  # the tables the transaction wrote
        self.snapshot = False  # reading one moment of the ledger (snapshot())
        self.beside = False  # in a transaction beside the writer (beside_writer())
        self.also: list[Callable[[], None]] = []  # written by the next commit (with_commit())
        self.after: list[Callable[[], None]] = []  # run once committed, unlocked (after_writing)
        self.journal: Batch | None = None  # the batch of a journaled() write
        # The journal's batches taken into this transaction once it holds the audit chain
        # (enter_chain()); None while it does not.
        self.chain: Taken | None = None


log = logging.getLogger("valuegap.store")

# How much lower the journal's mover runs than the threads that decide meanwhile.
MOVER_NICENESS = 10

# DuckDB writes its log into the file (a checkpoint) in the commit whose writes would take the
# log past 16 MiB (an OTLP drain's count a few MiB). When that commit is a write's that holds
# the audit chain, every decision waits for it: 80 ms on the benchmark ledger. The writer
# checkpoints at half that, between writes, so that DuckDB rarely has to.
CHECKPOINT_AT = 8 * 1024 * 1024


def _yield_cpu_to_callers() -> None:
    """Lower this thread's priority (its nice value, per thread on Linux), so that a move of
    the journal takes the CPU that the deciding threads leave: with two cores, any CPU the
    move takes from them shows in their p99 (benchmarks/RESULTS.md). Where nice is the
    process's (not Linux), nothing changes."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.nice(MOVER_NICENESS)


class Database:
    """One open ledger file. All SQL that valuegap runs goes through here."""

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool = False
    ) -> None:
        self._con = connection
        self.path = path
        self.read_only = read_only
        self.schema_outdated = False  # read-only, and the schema needs migrations
        self._writer: Writer = writer_of(path)
        self._cache = self._writer.cache
        self._thread = _ThreadState()
        self._cursors: dict[int, duckdb.DuckDBPyConnection] = {}  # by thread
        self._cursors_lock = threading.Lock()
        self._closed = False
        self._mover: threading.Thread | None = None  # moves the journal now and then
        self._stopping = False  # the mover stops (the handle closes, or the process exits)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        create: bool,
        migrations: Sequence[Migration] | None = None,
        memory_limit: str | None = None,
        read_only: bool = False,
        lock_timeout: float = 60.0,
        on_wait: Callable[[str], None] | None = None,
        threads: int | None = None,
    ) -> Database:
        """Open (or with ``create``, make) a ledger and bring its schema up to date; or, with
        ``read_only``, open it without writing anything (``schema_outdated`` then says whether
        it needs migrations). While another process holds the file, wait up to
        ``lock_timeout`` seconds (``on_wait`` hears of a wait; see store/file_lock.py).
        ``threads`` is DuckDB's for the whole file in this process (every handle shares it)."""
        if not create and not path.exists():
            raise ConfigError(
                f"There is no ledger at {path}. Create one with `Ledger.init({str(path)!r})`, "
                "or point `db` (or VALUEGAP_DB) at an existing ledger."
            )
        if create and path.exists():
            raise ConfigError(f"{path} already exists; choose another `db` path.")
        if create and (leftovers := Journal(path).segments()):
            raise ConfigError(
                f"{leftovers[0]} is the journal of an earlier ledger at {path}; move it away "
                "(or choose another `db` path) to create a new ledger there."
            )
        try:
            connection = file_lock.connect(
                path, read_only=read_only, timeout=lock_timeout, on_wait=on_wait
            )
        except duckdb.Error as exc:
            raise ConfigError(f"{path} cannot be opened as a ledger: {exc}") from exc
        connection.execute("SET TimeZone = 'UTC'")  # timestamps without a zone are UTC
        # Track long statements' progress for the CLI's own bar, without DuckDB's printed one.
        connection.execute("SET enable_progress_bar = true")
        connection.execute("SET enable_progress_bar_print = false")
        if memory_limit:
            try:
                connection.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
            except duckdb.Error as exc:
                connection.close()
                raise ConfigError(
                    f"memory_limit {memory_limit!r} is not a size such as 2GB or 512MB"
                ) from exc
        if threads is not None:
            connection.execute(f"SET threads = {int(threads)}")
        database = cls(connection, path, read_only=read_only)
        try:
            if read_only:
                database.schema_outdated = bool(database._pending(migrations, create=False))
            else:
                database._migrate(migrations, create=create)
                database._recover_journal()
        except BaseException:
            database.close()  # and let go of the file's writer, so that no cache outlives it
            raise
        return database

    def close(self) -> None:
        """Close the file once: a second close must not let go of its writer again."""
        if self._closed:
            return
        self._closed = True
        self._stop_mover()
        if not self.read_only:
            with contextlib.suppress(duckdb.Error):  # what stays in the journal moves on open
                self.settle()
        with self._cursors_lock:
            for cursor in self._cursors.values():
                with contextlib.suppress(duckdb.Error):
                    cursor.close()
            self._cursors.clear()
        self._con.close()
        release(self._writer)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """For the engine adapter (store.engine) only: everything else goes through here.
        The writer's connection in a write, else this thread's cursor."""
        return self._current()

    def _current(self) -> duckdb.DuckDBPyConnection:
        if self._thread.writing:
            return self._con
        cursor = self._thread.cursor
        if cursor is None:
            cursor = self._thread.cursor = self._new_cursor()
        return cursor

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor; the cursors of threads that ended are closed (a server's
        threads come and go)."""
        with self._cursors_lock:
            alive = {thread.ident for thread in threading.enumerate()}
            for ident in [i for i in self._cursors if i not in alive]:
                with contextlib.suppress(duckdb.Error):
                    self._cursors.pop(ident).close()
            cursor = self._con.cursor()
            earlier = self._cursors.pop(threading.get_ident(), None)  # an ended thread's id
            if earlier is not None:
                with contextlib.suppress(duckdb.Error):
                    earlier.close()
            self._cursors[threading.get_ident()] = cursor
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    @property
    def schema_version(self) -> int:
        row = self.one("SELECT max(version) FROM valuegap_schema")
        return int(row[0]) if row and row[0] is not None else 0

    def _recorded_version(self) -> int | None:
        """The schema version the file records; None for a file that is not a ledger."""
        try:  # asked directly: listing the tables costs more than the whole of this question
            return self.schema_version
        except duckdb.CatalogException:  # no table valuegap_schema
            return None

    def _pending(self, migrations: Sequence[Migration] | None, *, create: bool) -> list[Migration]:
        """The migrations (valuegap's own if None) the file still needs; a file that is not a
        ledger, or a ledger of a newer valuegap, is refused. A ledger at valuegap's latest
        version needs none of its own, which are then not even imported."""
        current = self._recorded_version()
        if current is None:
            if create:
                return list(_migrations() if migrations is None else migrations)
            raise ConfigError(
                f"{self.path} is a database but not a valuegap ledger; nothing was changed. "
                "Point `db` at a ledger, or create one with `Ledger.init()`."
            )
        if migrations is None:
            if current == SCHEMA_VERSION:
                return []
            migrations = _migrations()
        latest = migrations[-1].version if migrations else 0
        if current > latest:
            raise ConfigError(
                f"{self.path} was written by a newer valuegap (schema version {current}; this "
                f"valuegap knows up to {latest}). Upgrade valuegap to open it; nothing was changed."
            )
        return [migration for migration in migrations if migration.version > current]

    def _migrate(self, migrations: Sequence[Migration] | None, *, create: bool) -> None:
        pending = self._pending(migrations, create=create)
        self._con.execute(
            """CREATE TABLE IF NOT EXISTS valuegap_schema (
                version INTEGER PRIMARY KEY,
                description VARCHAR NOT NULL,
                applied_at TIMESTAMP NOT NULL
            )"""
        )
        for migration in pending:
            with self.transaction():
                for statement in migration.statements:
                    self._con.execute(statement)
                self.execute(
                    "INSERT INTO valuegap_schema VALUES (?, ?, ?)",
                    [migration.version, migration.description, utcnow()],
                )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Be the ledger's one writer (re-entrant): other threads' writes wait, this thread's
        reads and writes run on the write connection. Readers on other threads go on."""
        if self.read_only:
            raise ConfigError(
                f"{self.path} was opened read-only (read_only=True), so nothing can be "
                "written through it; open the ledger without read_only to change it."
            )
        assert self._thread.journal is None, "a decision batch writes to the journal only"
        with self._writer.lock:
            if not self._thread.writing:
                self.settle()  # the journal's batches first: they come before this write
            self._thread.writing += 1
            try:
                yield
            finally:
                self._thread.writing -= 1
            if not self._thread.writing:
                self._checkpoint_if_due()
        if not self._thread.writing:
            self._run_after()

    @contextmanager
    def journaled(self) -> Iterator[None]:
        """A group-commit batch of decisions (store/writer.py), holding the audit chain but
        not the writer, so that it does not wait for a long write: its audit entries and
        approval requests go to the journal (store/journal.py), durable when the block ends,
        rather than to DuckDB; it reads what is committed (on this thread's cursor, and the
        cache as a transaction does), and what the journal holds (``journal_head``,
        ``journal_approvals``). A write commits its audit entries holding the chain too, so a
        batch comes wholly before or wholly after it."""
        if self.read_only:
            raise ConfigError(f"{self.path} was opened read-only: nothing can be written.")
        thread = self._thread
        assert not thread.writing and not thread.depth, "a journaled batch is a write of its own"
        with self._writer.chain:
            thread.depth, thread.journal = 1, Batch()
            thread.pending, thread.written = {}, NO_TABLE
            began = self._cache.generation
            try:
                yield
                if thread.journal.entries:
                    self._writer.journal.append(thread.journal)
            except BaseException:
                self._cache.forget()  # what it read may be changed
                raise
            else:
                self._cache.committed(written=thread.written, learned=thread.pending, since=began)
            finally:
                thread.depth, thread.journal = 0, None
                thread.pending, thread.written = {}, NO_TABLE
        if self._mover is None:
            self._start_mover()

    @property
    def journal_batch(self) -> Batch | None:
        """The batch this thread's ``journaled()`` write fills, if it is in one."""
        return self._thread.journal

    def settle(self) -> None:
        """Move the journal's batches into the ledger's tables, if any wait: before a read of
        what they change (the audit log, its head, agents' approval requests) sees the tables.
        As the writer, after the write in progress; in a write's transaction, into it
        (``enter_chain``). Not inside a snapshot, which reads the moment it began, nor in a
        decision batch, which reads what the journal holds beside the tables."""
        journal, thread = self._writer.journal, self._thread
        if thread.depth and thread.writing:
            self.enter_chain()  # and so keep what decisions write as it is, until it commits
            return
        if not journal.holds or self.read_only or thread.snapshot or thread.journal:
            return
        # As the writer: a move while a write's transaction is open would conflict with it,
        # and one in progress (or a write that took batches) has committed once it is over.
        with self._writer.lock:
            journal.move(self._con.cursor)
            self._checkpoint_if_due()

    def enter_chain(self) -> None:
        """Hold the audit chain until this write's transaction ends, with the journal's
        batches taken into it: before it appends to the chain (its head is then the
        transaction's) or reads what decisions write (agents' approval requests). Decisions
        wait for the chain meanwhile; a write takes it as late as it can."""
        thread = self._thread
        if not (thread.depth and thread.writing):
            raise RuntimeError(
                "An audit entry is appended in the transaction of the change it records "
                "(Database.transaction()): only a write's transaction holds the chain."
            )
        if thread.chain is not None:
            return  # no decision has run since it took the chain
        self._writer.chain.acquire()
        # What the transaction kept of the chain's head or of the requests was read before it
        # held the chain: decisions may have moved on since.
        thread.pending.clear()
        thread.chain = self._writer.journal.take()
        self._writer.journal.write(self._con, thread.chain)

    def journal_head(self) -> tuple[int, str] | None:
        """The audit chain's head if the journal holds it (see ``Journal.held_head``)."""
        return self._writer.journal.held_head()

    def journal_approvals(self) -> list[dict[str, Any]]:
        """The agents' approval requests that the journal holds (``Journal.held_approvals``)."""
        return self._writer.journal.held_approvals()

    def _recover_journal(self) -> None:
        """What the journal still holds from a process that stopped without closing the
        ledger: moved once, when the file is first opened for writing in this process."""
        journal = self._writer.journal
        with self._writer.lock:
            if journal.recovered:
                return
            from valuegap.store.audit import AuditStore  # it imports this module

            head = AuditStore(self).head() or (0, GENESIS)
            if journal.recover(head, self._con.cursor):
                self._cache.forget()

    def _start_mover(self) -> None:
        with self._cursors_lock:
            if self._mover is None and not self._closed:
                self._mover = threading.Thread(
                    target=self._move_now_and_then, name="valuegap journal", daemon=True
                )
                self._mover.start()
                _MOVING.add(self)

    def _stop_mover(self) -> None:
        self._stopping = True
        if self._mover is not None:
            self._writer.journal.wake()
            self._mover.join()

    def _move_now_and_then(self) -> None:
        """The journal's batches into the tables, once enough wait or a little time passed;
        a move that fails is tried again (its batches stay in the journal, durable)."""
        _yield_cpu_to_callers()
        journal = self._writer.journal
        while not self._stopping:
            journal.wait_for_work()
            if self._stopping:
                return
            with contextlib.suppress(duckdb.Error):
                self.settle()

    def _checkpoint_if_due(self) -> None:
        """As the writer, between writes (holding neither a transaction nor the audit chain):
        a checkpoint once DuckDB's log reaches ``CHECKPOINT_AT``. The write before it has
        committed, so a checkpoint that fails fails no write: it is logged, and tried again
        after the next write (DuckDB's own comes at 16 MiB)."""
        try:
            logged = os.path.getsize(f"{self._writer.path}.wal")
        except OSError:  # no log (nothing written since the last checkpoint), or unreadable
            return
        if logged >= CHECKPOINT_AT:
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as failed:
                log.warning(
                    "%s: DuckDB's log (%d bytes) was not written into the file: %s",
                    self.path,
                    logged,
                    failed,
                )

    def after_writing(self, then: Callable[[], None]) -> None:
        """Run ``then()`` once this thread's transaction commits and it is no longer the
        writer (what is slow and needs no lock: a webhook's delivery); never if the transaction
        rolls back. Outside a transaction, now."""
        if not self._thread.depth:
            then()
        elif then not in self._thread.after:
            self._thread.after.append(then)

    def _run_after(self) -> None:
        after, self._thread.after = self._thread.after, []
        for then in after:
            then()

    @property
    def is_writing(self) -> bool:
        """Whether this thread is the writer now (in ``writing()`` or a transaction)."""
        return self._thread.writing > 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing, as the ledger's one writer. Nested use joins the outer transaction."""
        thread = self._thread
        if thread.depth:
            thread.depth += 1
            try:
                yield
            finally:
                thread.depth -= 1
            return
        with self.writing():
            self._con.begin()
            thread.depth, thread.pending, thread.written = 1, {}, NO_TABLE
            try:
                yield
                while thread.also:
                    thread.also.pop(0)()
                self._con.commit()
            except BaseException:
                thread.after.clear()
                self._cache.forget()  # what it read may be changed
                with contextlib.suppress(duckdb.Error):  # a failed commit has rolled back already
                    self._con.rollback()
                # A statement that failed in ``unordered`` left its setting: an aborted
                # transaction takes no setting until it is rolled back.
                with contextlib.suppress(duckdb.Error):
                    self._con.execute("RESET preserve_insertion_order")
                self._leave_chain(committed=False)
                raise
            else:
                self._cache.committed(written=thread.written, learned=thread.pending)
                self._leave_chain(committed=True)
            finally:
                thread.depth, thread.pending, thread.written = 0, {}, NO_TABLE

    def _leave_chain(self, *, committed: bool) -> None:
        """The transaction ended: the batches it took from the journal are in the tables (or
        wait again), and the chain is let go, once the cache says what it committed."""
        thread = self._thread
        if thread.chain is None:
            return
        if committed:
            self._writer.journal.forget(thread.chain)
        else:
            self._writer.journal.give_back(thread.chain)
        thread.chain = None
        self._writer.chain.release()

    @contextmanager
    def with_commit(self, write: Callable[[], None]) -> Iterator[None]:
        """In this block, ``write()`` runs in the next transaction of this thread to commit,
        last before its commit: what a write elsewhere (an ingest that retries in transactions
        of its own) must change with it, all or nothing. Not run if none commits."""
        thread = self._thread
        thread.also.append(write)
        try:
            yield
        finally:
            if write in thread.also:
                thread.also.remove(write)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that see one moment of the ledger (a read transaction on this thread's
        cursor, past the cache): what several reads compare, such as the audit log, its head
        and the tables, stays consistent while writes commit. Writers do not wait for it."""
        thread = self._thread
        if thread.writing or thread.snapshot:
            yield
            return
        self.settle()
        cursor = self._current()
        cursor.begin()
        thread.snapshot = True
        try:
            yield
        finally:
            thread.snapshot = False
            with contextlib.suppress(duckdb.Error):
                cursor.rollback()

    def in_group(
        self,
        item: T,
        write_all: Callable[[Database, Sequence[T]], Sequence[R]],
        *,
        commit: Commit = "transaction",
    ) -> R:
        """Write ``item`` with others queued meanwhile, in one transaction (group commit):
        ``write_all(db, items)`` writes them in order and returns one result per item; this
        returns ``item``'s once it is committed. In a write already, it joins that write.
        ``commit``: ``"journal"``, the batch goes to the journal (``journaled()``: audit
        entries and agents' approval requests only); ``"beside"``, the transaction is
        ``beside_writer()``'s, and does not wait for the writer's."""
        if self.is_writing:
            with self.transaction():
                return write_all(self, [item])[0]
        writer = self._writer
        group = {"transaction": writer.group, "journal": writer.journaled, "beside": writer.beside}
        return group[commit].submit(self, item, write_all)

    @contextmanager
    def beside_writer(self) -> Iterator[None]:
        """A transaction on this thread's own cursor that does not wait for the writer: its
        writes commit while a long write (an ingest) goes on. Only for appends of new rows to
        a table that no write reads while it changes it, and nothing cached (the OTLP inbox):
        DuckDB refuses a commit whose rows another transaction changed meanwhile."""
        assert not self._thread.writing and not self._thread.beside, "not in another write"
        if self.read_only:
            raise ConfigError(f"{self.path} was opened read-only: nothing can be written.")
        self._thread.beside = True
        try:
            with committed(self._current()):
                yield
        finally:
            self._thread.beside = False

    def _forget(self, tables: frozenset[str]) -> None:
        """A write of ``tables`` may change what was read from them."""
        thread = self._thread
        if thread.depth:
            for key in [k for k, found in thread.pending.items() if changes(tables, found.tables)]:
                del thread.pending[key]
            thread.written |= tables
        else:  # the writer's own statement outside a transaction: committed as it ran
            self._cache.committed(written=tables, learned={})

    def progress(self) -> float | None:
        """How far the running statement is, 0 to 100; None when nothing long is running.
        Safe to call from another thread."""
        value = float(self._con.query_progress())
        return None if value < 0 else value

    @contextmanager
    def unordered(self) -> Iterator[None]:
        """Let DuckDB write rows in any order: bulk inserts then stream instead of buffering.
        Only in a write."""
        assert self.is_writing, "unordered() sets the write connection: use it in a write"
        self._con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            with contextlib.suppress(duckdb.TransactionException):  # see transaction()
                self._con.execute("RESET preserve_insertion_order")

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, keeps_cache: bool = False
    ) -> None:
        """Run a write, as the writer (or in ``beside_writer()``). ``keeps_cache`` only for
        writes that change nothing cached (an append to the audit log, whose new head the
        caller then remembers)."""
        if self._thread.beside:
            self._current().execute(sql, params)
            return
        assert self._thread.journal is None, "a journaled batch writes to the journal only"
        with self.writing():
            self._con.execute(sql, params)
            if not keeps_cache:
                self._forget(written(sql))

    def cached(
        self, key: Hashable, read: Callable[[], T], tables: frozenset[str] = EVERY_TABLE
    ) -> T:
        """``read()``, remembered until a commit writes one of the ``tables`` it reads
        (store/read_cache.py; ``key`` names it)."""
        thread = self._thread
        if thread.depth:  # the transaction's own view, kept if it commits
            if key in thread.pending:
                return cast(T, thread.pending[key].value)
            value = MISSING if changes(thread.written, tables) else self._cache.get(key)
            if value is MISSING:
                value = read()
                thread.pending[key] = Cached(value, tables)
            return cast(T, value)
        if thread.snapshot:  # the cache may be newer than the snapshot
            return read()
        # The writer does not wait for another thread's read: that read may wait for the
        # writer (a read of the audit head moves the journal, as the writer).
        return self._cache.read(key, read, tables, wait=not thread.writing)

    def cached_for(
        self,
        name: str,
        source: object,
        make: Callable[[], T],
        tables: frozenset[str] = EVERY_TABLE,
    ) -> T:
        """``make()``, remembered for the object ``source`` (not for an equal one) until a
        commit writes one of the ``tables`` it is made from. The entry keeps ``source``, so
        that its id, in the key, is not another object's while the entry lasts."""
        return self.cached((name, id(source)), lambda: (source, make()), tables)[1]

    def remember(self, key: Hashable, value: Any, tables: frozenset[str]) -> None:
        """Record what a write just made true (e.g. the new audit head, read from ``tables``),
        after the write, in its transaction: the cache keeps it if the transaction commits."""
        assert self._thread.depth, "remember() is for what a transaction wrote"
        self._thread.pending[key] = Cached(value, tables)

    def insert_arrow(self, table: str, data: Any) -> None:
        """Append a pyarrow table whose columns match ``table``'s by name."""
        with self.writing():
            self._con.register("_valuegap_arrow", data)
            try:
                names = ", ".join('"' + n + '"' for n in data.column_names)
                self._con.execute(
                    f"INSERT INTO {table} ({names}) SELECT {names} FROM _valuegap_arrow"
                )
            finally:
                self._con.unregister("_valuegap_arrow")
            self._forget(frozenset({table.lower()}))

    def temp_table_of_arrow(self, table: str, data: Any) -> None:
        """Create (or replace) the temporary table ``table`` holding the pyarrow table
        ``data``, on the writer's connection (a write's own)."""
        with self.writing():
            self._con.register("_valuegap_arrow", data)
            try:
                self._con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _valuegap_arrow"
                )
            finally:
                self._con.unregister("_valuegap_arrow")

    def all(
        self, sql: str, params: Sequence[Any] | None = None, *, keeps_cache: bool = False
    ) -> list[dict[str, Any]]:
        """Every row, by column name; also a write's (``... RETURNING *``), ``keeps_cache``
        as for ``execute``."""
        with self._statement(sql, keeps_cache) as connection:
            cursor = connection.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """One row; also for a write that returns a count (INSERT ... then its row count)."""
        with self._statement(sql) as connection:
            # fetchall, not fetchone: a result not read to its end keeps the connection's
            # transaction open, and DuckDB keeps every version of a row changed since for
            # it: each later UPDATE of that row (the audit head's) walks them all.
            rows: list[tuple[Any, ...]] = connection.execute(sql, params).fetchall()
            return rows[0] if rows else None

    @contextmanager
    def _statement(
        self, sql: str, keeps_cache: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Where ``sql`` runs: a read on this thread's connection, a write as the writer."""
        if sql.lstrip()[:8].upper().startswith(("SELECT", "DESCRIBE", "FROM")):
            yield self._current()
            return
        with self.writing():
            yield self._con
            if not keeps_cache:
                self._forget(written(sql))

    def get_meta(self, key: str) -> str | None:
        row = self.one(f"SELECT value FROM ledger_meta WHERE key = {literal(key)}")
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO ledger_meta (key, value) VALUES (?, ?)", [key, value])


# The handles whose mover runs. A daemon thread still running when the interpreter exits is
# stopped where it stands, and one stopped inside DuckDB aborts the process: at exit, the
# movers stop first (what they did not move stays in the journal, moved on the next open).
_MOVING: weakref.WeakSet[Database] = weakref.WeakSet()


@atexit.register
def _stop_movers() -> None:
    for database in list(_MOVING):
        database._stop_mover()


def _migrations() -> Sequence[Migration]:
    from valuegap.store.migrations import MIGRATIONS

    return MIGRATIONS


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

"""The DuckDB file: opening it, migrating its schema, and transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import duckdb

from valuegap.errors import ConfigError

if TYPE_CHECKING:
    from valuegap.store.migrations import Migration

T = TypeVar("T")
_CACHES: dict[Path, dict[Hashable, Any]] = {}


class Database:
    """One open ledger file. All SQL that valuegap runs goes through here."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._con = connection
        self.path = path
        self._depth = 0
        # Small reads that every decision needs (users, policies, an initiative, the audit
        # head). Any write and any failed transaction forget them all. Shared by every handle
        # on the same file in this process, as DuckDB shares the database itself.
        self._cache = _CACHES.setdefault(path.resolve(), {})
        self._cache.clear()  # the file may be new where an older one was

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        create: bool,
        migrations: Sequence[Migration] | None = None,
        memory_limit: str | None = None,
    ) -> Database:
        """Open (or with ``create``, make) a ledger and bring its schema up to date."""
        if not create and not path.exists():
            raise ConfigError(
                f"There is no ledger at {path}. Create one with `Ledger.init({str(path)!r})`, "
                "or point `db` (or VALUEGAP_DB) at an existing ledger."
            )
        if create and path.exists():
            raise ConfigError(f"{path} already exists; choose another `db` path.")
        try:
            connection = duckdb.connect(str(path))
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
        database = cls(connection, path)
        if migrations is None:
            from valuegap.store.migrations import MIGRATIONS

            migrations = MIGRATIONS
        try:
            database._migrate(migrations, create=create)
        except BaseException:
            connection.close()
            raise
        return database

    def close(self) -> None:
        self._con.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """For the engine adapter (store.engine) only: everything else goes through here."""
        return self._con

    @property
    def schema_version(self) -> int:
        row = self.one("SELECT max(version) FROM valuegap_schema")
        return int(row[0]) if row and row[0] is not None else 0

    def _migrate(self, migrations: Sequence[Migration], *, create: bool) -> None:
        tables = {row[0] for row in self._con.execute("SHOW TABLES").fetchall()}
        if not create and "valuegap_schema" not in tables:
            raise ConfigError(
                f"{self.path} is a database but not a valuegap ledger; nothing was changed. "
                "Point `db` at a ledger, or create one with `Ledger.init()`."
            )
        self._con.execute(
            """CREATE TABLE IF NOT EXISTS valuegap_schema (
                version INTEGER PRIMARY KEY,
                description VARCHAR NOT NULL,
                applied_at TIMESTAMP NOT NULL
            )"""
        )
        current = self.schema_version
        latest = migrations[-1].version if migrations else 0
        if current > latest:
            raise ConfigError(
                f"{self.path} was written by a newer valuegap (schema version {current}; this "
                f"valuegap knows up to {latest}). Upgrade valuegap to open it; nothing was changed."
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            with self.transaction():
                for statement in migration.statements:
                    self._con.execute(statement)
                self.execute(
                    "INSERT INTO valuegap_schema VALUES (?, ?, ?)",
                    [migration.version, migration.description, utcnow()],
                )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._con.begin()
        self._depth = 1
        try:
            yield
            self._con.commit()
        except BaseException:
            self._cache.clear()  # it may hold what the failed transaction wrote (an audit head)
            with contextlib.suppress(duckdb.Error):  # a failed commit has rolled back already
                self._con.rollback()
            # A statement that failed in ``unordered`` left its setting: an aborted
            # transaction takes no setting until it is rolled back.
            with contextlib.suppress(duckdb.Error):
                self._con.execute("RESET preserve_insertion_order")
            raise
        finally:
            self._depth = 0

    def progress(self) -> float | None:
        """How far the running statement is, 0 to 100; None when nothing long is running.
        Safe to call from another thread."""
        value = float(self._con.query_progress())
        return None if value < 0 else value

    @contextmanager
    def unordered(self) -> Iterator[None]:
        """Let DuckDB write rows in any order: bulk inserts then stream instead of buffering."""
        self._con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            with contextlib.suppress(duckdb.TransactionException):  # see transaction()
                self._con.execute("RESET preserve_insertion_order")

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, keeps_cache: bool = False
    ) -> None:
        """Run a write. ``keeps_cache`` only for writes that change nothing cached (an
        append to the audit log, whose new head the caller then remembers)."""
        if not keeps_cache:
            self._cache.clear()
        self._con.execute(sql, params)

    def cached(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``, remembered until the next write (``key`` names what is read)."""
        if key not in self._cache:
            self._cache[key] = read()
        return cast(T, self._cache[key])

    def _forget_if_writing(self, sql: str) -> None:
        if not sql.lstrip()[:8].upper().startswith(("SELECT", "DESCRIBE", "FROM")):
            self._cache.clear()

    def remember(self, key: Hashable, value: Any) -> None:
        """Record what a write just made true (e.g. the new audit head), after the write."""
        self._cache[key] = value

    def insert_arrow(self, table: str, data: Any) -> None:
        """Append a pyarrow table whose columns match ``table``'s by name."""
        self._cache.clear()
        self._con.register("_valuegap_arrow", data)
        try:
            names = ", ".join('"' + n + '"' for n in data.column_names)
            self._con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _valuegap_arrow")
        finally:
            self._con.unregister("_valuegap_arrow")

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        self._forget_if_writing(sql)
        cursor = self._con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """One row; also for a write that returns a count (INSERT ... then its row count)."""
        self._forget_if_writing(sql)
        row: tuple[Any, ...] | None = self._con.execute(sql, params).fetchone()
        return row

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM ledger_meta WHERE key = ?", [key])
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO ledger_meta (key, value) VALUES (?, ?)", [key, value])


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

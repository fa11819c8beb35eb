"""The small reads that every decision needs (users, tokens, policies, an initiative, the
audit head), kept as committed until a commit writes a table they read.

Each cached read names the tables it reads; each write, the table it writes (``written``, from
its statement). A commit forgets only the reads of the tables it wrote: a usage ingest, which
writes usage events and their sums, keeps the users, policies and initiatives that decisions
read, so that an OpenTelemetry export does not make every decision read them again. A read
that names no tables (``EVERY_TABLE``), and a statement whose table is not known, are taken to
touch every table. docs/architecture.md ("The small-read cache") says more.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
MISSING = object()

# Any table: a read that does not say which it reads, a write whose table is not known.
ANY_TABLE = "*"
EVERY_TABLE = frozenset({ANY_TABLE})
NO_TABLE: frozenset[str] = frozenset()

# What decision batches keep in the read cache and alone change: the audit chain's head, and
# the pending requests for approval of agents' actions (with the next request's id).
AUDIT_HEAD = "audit_head"
PENDING_AGENT_APPROVALS = ("pending_agent_approvals",)
CHAIN_KEYS = frozenset({AUDIT_HEAD, PENDING_AGENT_APPROVALS})


class Cached(NamedTuple):
    """A value read, and the tables it was read from."""

    value: Any
    tables: frozenset[str]


def changes(written: frozenset[str], read: frozenset[str]) -> bool:
    """Whether writing the tables ``written`` may change a read of the tables ``read``."""
    if not written:
        return False
    return ANY_TABLE in written or ANY_TABLE in read or not written.isdisjoint(read)


# The statements whose one table is known from their first words. Anything else (an ALTER, a
# WITH ... INSERT, several statements) is taken to write every table.
_ONE_TABLE = re.compile(
    r"""\s*(?:
        INSERT\s+(?:OR\s+(?:REPLACE|IGNORE)\s+)?INTO
        | UPDATE
        | DELETE\s+FROM
        | CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW)(?:\s+IF\s+NOT\s+EXISTS)?
        | DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?
    )\s+([\w."]+)""",
    re.IGNORECASE | re.VERBOSE,
)


def written(sql: str) -> frozenset[str]:
    """The table that the write statement ``sql`` changes (its name without a schema), or
    ``EVERY_TABLE`` when that is not plain from its first words."""
    found = _ONE_TABLE.match(sql)
    if found is None or ";" in sql.strip().removesuffix(";"):
        return EVERY_TABLE
    return frozenset({found.group(1).rpartition(".")[2].strip('"').lower()})


class ReadCache:
    """Small reads as committed. A read is stored only if no commit wrote its tables while it
    read (its ``generation`` is older than their last write), so that a slow reader never
    puts back what a commit made stale. Threads that miss the same read at once read it once
    (``read``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Cached] = {}
        self._reading: dict[Hashable, threading.Event] = {}
        # The generation of the last commit that wrote each table (ANY_TABLE: a write of any
        # table, or of one not known), and of the last commit that wrote anything.
        self._written_at: dict[str, int] = {}
        self._last_write = 0
        self.generation = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._values.get(key)
        return MISSING if found is None else found.value

    def store(
        self, key: Hashable, value: Any, generation: int, tables: frozenset[str] = EVERY_TABLE
    ) -> None:
        """Keep ``value``, read from ``tables`` in ``generation``, unless a commit wrote them
        since."""
        with self._lock:
            if not self._written_since(generation, tables):
                self._values[key] = Cached(value, tables)

    def read(
        self, key: Hashable, read: Callable[[], T], tables: frozenset[str], *, wait: bool = True
    ) -> T:
        """The value kept for ``key``, or ``read()``'s, stored. While one thread reads a
        missing value, the others that ask for it wait for it rather than read it too; they
        read it themselves if it was not stored (a commit wrote its tables meanwhile). Not
        ``wait``: read it now, whoever else is reading it."""
        reading: threading.Event | None = None
        while True:
            with self._lock:
                found = self._values.get(key)
                if found is not None:
                    return found.value  # type: ignore[no-any-return]
                generation = self.generation
                if not wait:
                    break
                reading = self._reading.get(key)
                if reading is None:
                    reading = self._reading[key] = threading.Event()
                    break
            reading.wait()
        try:
            value = read()
            self.store(key, value, generation, tables)
            return value
        finally:
            if reading is not None:
                with self._lock:
                    del self._reading[key]
                reading.set()

    def committed(
        self,
        *,
        written: frozenset[str],
        learned: dict[Hashable, Cached],
        since: int | None = None,
    ) -> None:
        """A commit happened: forget the reads of the tables it ``written``, then keep what
        its transaction read or remembered after its last write of them. What it remembered
        it alone changes (the audit head, the pending requests: no other read is forgotten for
        them), but a read of their tables begun before is not kept. A decision batch
        (``since``: the generation it began in) does not hold the writer: what it read from
        tables that another commit wrote meanwhile may be stale, and is not kept; its
        ``CHAIN_KEYS``, which it alone changes, holding the chain, always are (a reader may
        have stored an older head since)."""
        with self._lock:
            if since is not None:
                learned = {
                    key: found
                    for key, found in learned.items()
                    if key in CHAIN_KEYS or not self._written_since(since, found.tables)
                }
            self.generation += 1
            # What it learned may be new (the audit head moves in the journal, or with a
            # statement that keeps the cache): a read of those tables begun before is not kept.
            for found in learned.values():
                for table in found.tables:
                    self._written_at[table] = self.generation
            if written:
                self._last_write = self.generation
                for table in written:
                    self._written_at[table] = self.generation
                self._values = {
                    key: found
                    for key, found in self._values.items()
                    if not changes(written, found.tables)
                }
            self._values.update(learned)

    def forget(self) -> None:
        """Forget everything (what a write that failed read may be changed)."""
        self.committed(written=EVERY_TABLE, learned={})

    def _written_since(self, generation: int, tables: frozenset[str]) -> bool:
        if ANY_TABLE in tables:
            return self._last_write > generation
        return any(self._written_at.get(t, 0) > generation for t in (ANY_TABLE, *tables))

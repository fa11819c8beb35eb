"""The one writer of a ledger file: the lock that puts its writes in order, the small-read
cache (store/read_cache.py), and group commit for the writes that dominate.

One ``Writer`` per ledger file in the process, shared by every ``Database`` handle on it (as
DuckDB shares the file's database), so that two handles never write past each other.
docs/architecture.md ("Concurrency") says why it is built so.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Protocol,
    TypeVar,
)

from valuegap.errors import ValuegapError
from valuegap.store.journal import Journal
from valuegap.store.read_cache import ReadCache

if TYPE_CHECKING:
    from valuegap.store.database import Database

# How a group-commit batch commits: in a DuckDB transaction as the writer, appended to the
# journal holding the audit chain (``Database.journaled()``), or beside the writer.
Commit = Literal["transaction", "journal", "beside"]
T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class _Signal:
    """Set once, waited for once: a lock held from the start and released by ``set``. Cheaper
    than a ``threading.Event`` (a condition, a lock per wait), which every decision would make
    and wait on."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wait(self) -> None:
        self._lock.acquire()

    def set(self) -> None:
        if self._lock.locked():
            self._lock.release()


@dataclass(eq=False)
class _Waiter(Generic[T, R]):
    """One caller's write in the group-commit queue, and its answer once committed."""

    item: T
    write_all: Callable[[Database, Sequence[T]], Sequence[R]]
    done: _Signal = field(default_factory=_Signal)
    leads: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Writes queued by many callers, written in one transaction and committed together.

    The first caller to find no leader leads: it takes the whole queue, writes it under the
    writer and commits, then answers every caller in the batch, and hands the lead to the
    first caller that queued meanwhile. A caller returns only after the commit of its write.
    A write that fails is retried alone, so it never takes another caller's write down.

    A leader first gathers: while fewer callers have queued than the previous batch held, it
    waits for the next one, as long as one comes within ``GATHER_WAIT`` seconds. Callers that
    come back at once (an agent acting after each answer) then share one batch instead of
    splitting into a full one and a batch of one, whose commit costs as much as the full one's.
    A caller alone waits only after a larger batch, and only once: its own batch held one.
    The leader is woken when the batch is full, not by each caller that queues: it looks
    once every ``GATHER_WAIT`` whether anyone came (16 wake-ups a batch cost a tenth of the
    decisions' throughput)."""

    GATHER_WAIT = 0.0003

    def __init__(self, commit: Commit = "transaction") -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[_Waiter[Any, Any]] = []
        self._leading = False
        self._gathering = False
        self._last_batch = 1

    def submit(
        self, db: Database, item: T, write_all: Callable[[Database, Sequence[T]], Sequence[R]]
    ) -> R:
        waiter: _Waiter[T, R] = _Waiter(item, write_all)
        with self._lock:
            self._queue.append(waiter)
            leads = waiter.leads = not self._leading
            self._leading = True
            if self._gathering and len(self._queue) >= self._last_batch:
                self._arrived.notify()
        if not leads:
            waiter.done.wait()
        if waiter.leads:
            self._lead(db)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[no-any-return]

    def _lead(self, db: Database) -> None:
        with self._lock:
            self._gathering = True
            while len(self._queue) < self._last_batch:
                queued = len(self._queue)
                self._arrived.wait(self.GATHER_WAIT)
                if len(self._queue) == queued:  # nobody came within GATHER_WAIT
                    break
            self._gathering = False
            batch, self._queue = self._queue, []
            self._last_batch = len(batch)
        try:
            for write_all, waiters in _by_writer(batch).items():
                _write(db, write_all, waiters, self._commit)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].done.set()
                else:
                    self._leading = False
            for waiter in batch:
                if waiter.result is None and waiter.error is None:
                    waiter.error = ValuegapError(
                        "The write was not committed: the thread writing it was interrupted. "
                        "Try again."
                    )
                waiter.done.set()


def _by_writer(batch: list[_Waiter[Any, Any]]) -> dict[Callable[..., Any], list[_Waiter[Any, Any]]]:
    groups: dict[Callable[..., Any], list[_Waiter[Any, Any]]] = {}
    for waiter in batch:
        groups.setdefault(waiter.write_all, []).append(waiter)
    return groups


def _write(
    db: Database,
    write_all: Callable[..., Sequence[Any]],
    waiters: list[_Waiter[Any, Any]],
    commit: Commit,
) -> None:
    try:
        with _committing(db, commit):
            results = write_all(db, [w.item for w in waiters])
    except Exception as exc:
        if len(waiters) == 1:
            waiters[0].error = exc
            return
        for waiter in waiters:  # which one failed is not known: each alone
            _write(db, write_all, [waiter], commit)
        return
    for waiter, result in zip(waiters, results, strict=True):
        waiter.result = result


def _committing(db: Database, commit: Commit) -> AbstractContextManager[None]:
    if commit == "journal":
        return db.journaled()
    if commit == "beside":
        return db.beside_writer()
    return db.transaction()


class Writer:
    """What every handle on one ledger file shares: the write lock, the cache, the queue.

    ``chain`` puts the audit chain in order: an agents' decision batch holds it from its reads
    to its journal append (store/journal.py) and never waits for ``lock``, so that decisions go
    on while a long write (an ingest) runs; a write takes it (after ``lock``, never before)
    once it appends to the chain or reads what the journal holds, until it commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.chain = threading.RLock()
        self.cache = ReadCache()
        self.group = GroupCommit()
        self.journaled = GroupCommit("journal")  # agents' decisions (store/journal.py)
        self.beside = GroupCommit("beside")  # appends that need not wait for writes
        self.journal = Journal(path)
        self.handles = 0


_WRITERS: dict[Path, Writer] = {}
_REGISTRY = threading.Lock()


def writer_of(path: Path) -> Writer:
    """The file's writer, made for its first open handle."""
    key = path.resolve()
    with _REGISTRY:
        writer = _WRITERS.get(key)
        if writer is None:
            writer = _WRITERS[key] = Writer(key)
        writer.handles += 1
        return writer


def release(writer: Writer) -> None:
    """A handle closed; with the last one the writer goes (a new file there starts afresh)."""
    with _REGISTRY:
        writer.handles -= 1
        if writer.handles == 0:
            writer.journal.close()
            if _WRITERS.get(writer.path) is writer:
                del _WRITERS[writer.path]


class HasDatabase(Protocol):
    _db: Database


S = TypeVar("S", bound=HasDatabase)


def writes(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A method that reads what it then changes runs as the ledger's one writer, reads
    included, so that what it read still holds when it writes (and its temporary tables are
    on the writer's connection)."""

    def as_writer(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._db.writing():
            return method(self, *args, **kwargs)

    functools.update_wrapper(as_writer, method)  # its name and docstring
    return as_writer

"""The journal: where agents' decisions and approval requests become durable before they are
answered, and from which they move to the ledger's tables in larger batches.

Group commit (store/writer.py) answers a batch of decisions once its audit entries (and the
approval requests among them) are durable. A batch's DuckDB transaction costs about 6 ms here
whatever it holds; an append to this file and its fsync, a tenth of a millisecond or more. So
a batch is appended here (``Journal.append``), and what the journal holds moves to
``audit_log``, ``agent_approvals`` and the chain's head in one DuckDB transaction
(``Journal.move``): from a thread of the open ledger once ``MOVE_AT`` entries wait or
``MOVE_EVERY`` seconds passed, before any other write, before a read of those tables or of the
head, and when the ledger is closed; or into a write's own transaction, when it takes the
audit chain to append to it (``take``, then ``forget`` once it commits, or ``give_back``).
Until the tables hold them, decisions read the head and the approval requests here
(``held_head``, ``held_approvals``). A ledger opened for writing after its process stopped
without closing it first moves what its journal still holds: the batches after the chain's
recorded head.

The files are ``<ledger>.journal.<n>``, a new one for each move; each record is a batch: its
length and CRC-32, then its JSON. A record cut short or failing its CRC was being written when
the process stopped, so it was never answered: it is ignored. A move hands DuckDB the batches'
JSON texts as appended, to parse: one list to bind rather than a value a field, and no text
joined from them, for binding and joining hold the GIL that the threads deciding meanwhile wait
for (joining 2,048 entries' JSON, 5 ms).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from valuegap.errors import ConfigError
from valuegap.model.audit import AuditEntry
from valuegap.store.committing import committed

_HEADER = struct.Struct(">II")  # the record's length, its CRC-32
Row = dict[str, Any]


@dataclass
class Batch:
    """One group-commit batch: its audit entries, in order, and the approval requests it
    made (rows of ``agent_approvals``)."""

    entries: list[AuditEntry] = field(default_factory=list)
    approvals: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class _Appended:
    """A batch as the journal holds it until it moves: its entries' rows (``AuditEntry.as_row``)
    and its approval requests, each a JSON array that the move hands DuckDB to parse."""

    entries: str
    approvals: str
    first: int  # the sequence numbers of its first and last entries
    last: int
    last_hash: str

    @classmethod
    def of(cls, batch: Batch) -> _Appended:
        first, last = batch.entries[0], batch.entries[-1]
        rows = [entry.as_row() for entry in batch.entries]
        return cls(_json(rows), _json(batch.approvals), first.seq, last.seq, last.hash)

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def record(self) -> bytes:
        return f'{{"entries":{self.entries},"approvals":{self.approvals}}}'.encode()


@dataclass(frozen=True)
class Taken:
    """Batches taken from the journal into a transaction: forgotten (their files deleted) once
    it commits, given back if it does not."""

    batches: list[_Appended]
    segments: list[Path]


class Journal:
    """The journal of one ledger file, shared by every handle on it in the process (through its
    ``Writer``)."""

    # Larger moves disturb the deciding threads less (16 callers' p99 7.4 ms against 8.5 at
    # 512 entries: benchmarks/RESULTS.md); a read that settles waits for one, ~70 ms here.
    MOVE_AT = 2048  # entries waiting
    MOVE_EVERY = 0.5  # seconds

    def __init__(self, ledger: Path) -> None:
        self._ledger = ledger
        self._folder = ledger.parent
        self._prefix = f"{ledger.name}.journal."
        self._lock = threading.Lock()  # the file and the batches waiting
        self._wanted = threading.Condition(self._lock)
        self.moving = threading.Lock()  # one move at a time
        self._waiting: list[_Appended] = []
        self._taken: list[_Appended] = []  # in a transaction that has not committed yet
        self._entries = 0  # waiting
        self._segment = 0
        self._file: int | None = None
        self._written: list[Path] = []  # the files whose batches wait to move
        self.recovered = False

    @property
    def holds(self) -> bool:
        """Whether the tables, as committed, lack batches of the journal: waiting, or taken
        by a move or a write that has not committed yet."""
        with self._lock:  # a batch taken is in neither list for a moment
            return bool(self._waiting or self._taken)

    def append(self, batch: Batch) -> None:
        """Make ``batch`` durable: written and fsync'd. On failure nothing of it counts, and
        the next batch goes to a new file, after nothing cut short."""
        appended = _Appended.of(batch)
        record = appended.record()
        with self._lock:
            try:
                if self._file is None:
                    self._file = self._open_segment()
                os.write(self._file, _HEADER.pack(len(record), zlib.crc32(record)) + record)
                os.fsync(self._file)
            except OSError:
                self._close_segment()
                raise
            self._waiting.append(appended)
            self._entries += appended.count
            if self._entries >= self.MOVE_AT:
                self._wanted.notify_all()

    def wait_for_work(self) -> None:
        """Return once ``MOVE_AT`` entries wait, or after ``MOVE_EVERY`` seconds."""
        with self._lock:
            if self._entries < self.MOVE_AT:
                self._wanted.wait(self.MOVE_EVERY)

    def wake(self) -> None:
        with self._lock:
            self._wanted.notify_all()

    def move(self, connect: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        """Move every batch waiting into the ledger's tables, in one transaction on a
        connection of ``connect()``, then forget them and delete their files. The caller
        holds the ledger's writer, so that no other write's transaction is open meanwhile: it
        would move the chain's head too (store.database)."""
        with self.moving:
            connection = connect()
            try:
                taken = self.take()
                try:
                    if taken.batches:
                        with committed(connection):
                            self.write(connection, taken)
                except BaseException:
                    self.give_back(taken)  # they wait still: the next move writes them
                    raise
                self.forget(taken)  # and the files of batches moved already, if any
            finally:
                connection.close()

    def take(self) -> Taken:
        """The batches waiting, taken to be written into a transaction (``write``)."""
        with self._lock:
            taken = Taken(self._waiting, self._written)
            self._waiting, self._written = [], []
            self._close_segment()  # batches from now on go to a new file
            self._taken.extend(taken.batches)
            self._entries -= sum(b.count for b in taken.batches)
        return taken

    def write(self, connection: duckdb.DuckDBPyConnection, taken: Taken) -> None:
        """Write ``taken``'s batches in the transaction open on ``connection``."""
        if not taken.batches:
            return
        for sql, params in _statements(taken.batches):
            connection.execute(sql, params)

    def forget(self, taken: Taken) -> None:
        """``taken``'s transaction committed: its batches are in the tables."""
        with self._lock:
            for batch in taken.batches:
                self._taken.remove(batch)
        for segment in taken.segments:
            with contextlib.suppress(FileNotFoundError):
                segment.unlink()

    def give_back(self, taken: Taken) -> None:
        """``taken``'s transaction did not commit: its batches wait again, first."""
        with self._lock:
            for batch in taken.batches:
                self._taken.remove(batch)
            self._waiting[:0] = taken.batches
            self._written[:0] = taken.segments
            self._entries += sum(b.count for b in taken.batches)

    def held_head(self) -> tuple[int, str] | None:
        """The chain's head if the journal holds its last entry (waiting, or taken by a
        transaction not committed yet): the last batch's last entry."""
        with self._lock:
            held = self._taken + self._waiting
        return (held[-1].last, held[-1].last_hash) if held else None

    def held_approvals(self) -> list[Row]:
        """The approval requests of the batches the journal holds, as ``agent_approvals``
        rows (what a decision reads beside the table, which does not hold them yet)."""
        with self._lock:
            held = [b.approvals for b in self._taken + self._waiting if b.approvals != "[]"]
        return [_approval(row) for approvals in held for row in json.loads(approvals)]

    def recover(
        self, head: tuple[int, str], connect: Callable[[], duckdb.DuckDBPyConnection]
    ) -> int:
        """Once, when the ledger is first opened for writing in this process: move the batches
        its files hold after the chain's recorded ``head`` (sequence number and hash: a process
        stopped before it moved them), and delete the files. The number of entries moved."""
        with self.moving:
            segments = self.segments()
            found = [(path, b) for path in segments for b in _read(path)]
            batches = [b for b in _answered([b for _, b in found]) if b.entries[-1].seq > head[0]]
            if batches and batches[0].entries[0].prev_hash != head[1]:
                path = next(path for path, b in found if b is batches[0])
                raise ConfigError(
                    f"{path} does not continue the audit chain of {self._ledger}: its "
                    f"entry {batches[0].entries[0].seq} follows another entry than the "
                    "ledger's last. It belongs to another ledger; nothing was changed. Move "
                    "the journal's files away to open this ledger."
                )
            if batches:
                connection = connect()
                try:
                    with committed(connection):
                        self.write(connection, Taken([_Appended.of(b) for b in batches], []))
                finally:
                    connection.close()
            self.recovered = True
            for segment in segments:
                segment.unlink()
            self._segment = max((_number(s) or 0 for s in segments), default=0)
            return sum(len(b.entries) for b in batches)

    def close(self) -> None:
        with self._lock:
            self._close_segment()

    def segments(self) -> list[Path]:
        """The journal's files, oldest first."""
        numbered = [(_number(p), p) for p in self._folder.glob(f"{self._prefix}*")]
        return [path for number, path in sorted((n, p) for n, p in numbered if n is not None)]

    def _open_segment(self) -> int:
        self._segment += 1
        path = self._folder / f"{self._prefix}{self._segment}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._written.append(path)
        try:
            folder = os.open(self._folder, os.O_RDONLY)  # the new file's name is durable too
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError:
            os.close(descriptor)
            raise
        return descriptor

    def _close_segment(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.close(self._file)
            self._file = None


def _number(path: Path) -> int | None:
    tail = path.name.rpartition(".")[2]
    return int(tail) if tail.isdigit() else None


def _statements(batches: list[_Appended]) -> list[tuple[str, list[Any]]]:
    """What writes ``batches`` into the tables, and moves the chain's head to their last."""
    # Imported here: the writer (store.writer) holds the journal, and these import the database.
    from valuegap.store.audit import entries_from_json_statement, head_statement
    from valuegap.store.governance import agent_approvals_from_json_statement

    statements = [
        entries_from_json_statement([b.entries for b in batches]),
        head_statement(batches[0].first, batches[-1].last, batches[-1].last_hash),
    ]
    approvals = [b.approvals for b in batches if b.approvals != "[]"]
    if approvals:
        statements.insert(0, agent_approvals_from_json_statement(approvals))
    return statements


def _answered(batches: list[Batch]) -> list[Batch]:
    """The batches, in order, that were answered: one whose append failed (its write done, its
    fsync not) was not, and the callers' next batch takes the same sequence numbers again, in
    a later record, which counts."""
    kept: list[Batch] = []
    for batch in batches:
        while kept and kept[-1].entries[-1].seq >= batch.entries[0].seq:
            kept.pop()
        kept.append(batch)
    return kept


def _read(path: Path) -> list[Batch]:
    """The batches in one file, up to the first record cut short or damaged (the one being
    written when the process stopped)."""
    data = path.read_bytes()
    batches, at = [], 0
    while at + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, at)
        record = data[at + _HEADER.size : at + _HEADER.size + length]
        if len(record) < length or zlib.crc32(record) != crc:
            break
        try:
            batches.append(_batch(json.loads(record)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path} holds a record that valuegap cannot read ({exc}); nothing was "
                "changed. Move the file away to open the ledger without it."
            ) from exc
        at += _HEADER.size + length
    return batches


# A batch as JSON: an entry as its row (``AuditEntry.as_row``), an approval request as its
# row; times as ISO 8601, amounts as text.


def _json(value: object) -> str:
    return _ENCODER.encode(value)


def _as_json(value: object) -> str:
    if isinstance(value, datetime):  # as the ledger's TIMESTAMP columns keep it: UTC, no zone
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"a journal batch holds no {type(value).__name__}")


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_as_json)  # made once, not per batch


def _batch(data: dict[str, Any]) -> Batch:
    entries = [
        AuditEntry(seq, datetime.fromisoformat(at), *rest) for seq, at, *rest in data["entries"]
    ]
    return Batch(entries, [_approval(row) for row in data["approvals"]])


def _approval(row: Row) -> Row:
    """An approval request's row as a batch holds it, read back from its JSON."""
    return {
        **row,
        "amount": None if row["amount"] is None else Decimal(row["amount"]),
        "requested_at": datetime.fromisoformat(row["requested_at"]),
    }

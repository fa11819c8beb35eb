"""The audit log table and its recorded head."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from valuegap.model.audit import AuditEntry
from valuegap.store.database import META_TABLES, Database
from valuegap.store.read_cache import AUDIT_HEAD

_HEAD_KEY = AUDIT_HEAD
BASELINE_KEY = "audit_baseline"
_COLUMNS = (
    "seq, recorded_at, actor, action, entity_type, entity_id, before, after, prev_hash, hash, state"
)

# Each list as the client binds it (ints, datetimes, text), cast by the INSERT to its column's
# type: a cast of each in the SELECT costs a sixth of the statement.
_INSERT_COLUMNS = f"INSERT INTO audit_log ({_COLUMNS}) SELECT " + ", ".join(
    "unnest(?)" for _ in _COLUMNS.split(", ")
)


# Entries as JSON arrays of rows (``AuditEntry.as_row``; one a batch), parsed by DuckDB: what
# the journal moves (store/journal.py). Each row is parsed once, into a list of texts:
# ``r->>i`` on a JSON row parses it again for each column (a move of 2,048 entries, 47 ms of
# CPU rather than 13).
_INSERT_FROM_JSON = (
    f"INSERT INTO audit_log ({_COLUMNS}) SELECT r[1]::BIGINT, r[2]::TIMESTAMP, "
    + ", ".join(f"r[{i}]" for i in range(3, len(_COLUMNS.split(", ")) + 1))
    + """ FROM (SELECT unnest(from_json(rows, '[["VARCHAR"]]')) AS r
    FROM unnest(?::VARCHAR[]) AS arrays(rows))"""
)


def entries_from_json_statement(arrays: list[str]) -> tuple[str, list[Any]]:
    """The statement that appends the entries of ``arrays``, JSON arrays of their rows."""
    return _INSERT_FROM_JSON, [arrays]


def head_statement(first: int, last: int, digest: str) -> tuple[str, list[Any]]:
    """The statement that moves the chain's head to entry ``last`` (its hash ``digest``), once
    entries ``first`` to ``last`` are appended."""
    # An UPDATE of the one row costs half of an INSERT OR REPLACE (the key's index).
    if first > 1:
        sql = "UPDATE ledger_meta SET value = $2 WHERE key = $1"
    else:
        sql = "INSERT INTO ledger_meta (key, value) VALUES ($1, $2)"
    return sql, [_HEAD_KEY, f"{last}:{digest}"]


class AuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def head(self) -> tuple[int, str] | None:
        return self._db.cached(_HEAD_KEY, self._read_head, META_TABLES)

    def _read_head(self) -> tuple[int, str] | None:
        if self._db.journal_batch is None:
            self._db.settle()  # the head may wait in the journal
        elif held := self._db.journal_head():  # a decision batch reads it there
            return held
        value = self._db.get_meta(_HEAD_KEY)
        if value is None:
            return None
        seq, digest = value.split(":", 1)
        return int(seq), digest

    def append(self, entry: AuditEntry) -> None:
        """Must run inside the transaction of the change it records."""
        self.append_all([entry])

    def append_all(self, entries: Sequence[AuditEntry]) -> None:
        """Entries that follow the head in order, in one INSERT and one move of the head (in
        the caller's transaction), or in a batch of the journal (store/journal.py)."""
        batch, last = self._db.journal_batch, entries[-1]
        if batch is not None:
            batch.entries.extend(entries)
        else:
            # A list per column, unnested: DuckDB binds 11 parameters rather than 11 a row.
            columns = [list(column) for column in zip(*(e.as_row() for e in entries), strict=True)]
            self._db.execute(_INSERT_COLUMNS, columns, keeps_cache=True)
            head = head_statement(entries[0].seq, last.seq, last.hash)
            self._db.execute(*head, keeps_cache=True)
        self._db.remember(_HEAD_KEY, (last.seq, last.hash), META_TABLES)

    def baseline_pending(self) -> bool:
        """Whether this ledger's log was written before entries carried their state, and
        still needs the baseline entry that replay starts from (migration 10 says so)."""
        return self._db.get_meta(BASELINE_KEY) == "pending"

    def baseline_recorded(self) -> None:
        self._db.execute("DELETE FROM ledger_meta WHERE key = ?", [BASELINE_KEY])

    def entries(
        self,
        *,
        entity_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        before: int | None = None,
        only: tuple[Sequence[str], Sequence[str]] | None = None,
    ) -> Iterator[AuditEntry]:
        """``only`` (types, names): of the entries about entities of these types, only those
        whose ``<type>:<entity id>`` is named."""
        self._db.settle()
        order = "DESC" if newest_first else "ASC"
        types, names = only or ((), ())
        rows = self._db.all(
            f"SELECT {_COLUMNS} FROM audit_log "
            "WHERE (? IS NULL OR entity_id = ?) AND (? IS NULL OR seq < ?) "
            "AND (NOT ? OR NOT list_contains(?::VARCHAR[], entity_type) "
            "OR list_contains(?::VARCHAR[], entity_type || ':' || entity_id)) "
            f"ORDER BY seq {order} LIMIT ?",
            [entity_id, entity_id, before, before, only is not None, types, names, limit],
        )
        for row in rows:
            yield AuditEntry(**row)

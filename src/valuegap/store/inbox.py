"""The OTLP inbox (table ``otlp_inbox``): trace exports the server acknowledged, one row per
export (as protobuf, whatever encoding it came in), waiting for the drain that moves their
GenAI spans into ``usage_events`` (costs/inbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from valuegap.records import record
from valuegap.store.database import Database


@record
class Export:
    """One export as received: who sent it, named how, how many GenAI spans it holds, and the
    ``ExportTraceServiceRequest`` itself, as protobuf."""

    sent_by: str
    source_name: str
    received_at: datetime
    spans: int
    export: bytes


@record
class Waiting:
    """An export in the inbox, in the order of arrival (``seq``)."""

    seq: int
    sent_by: str
    source_name: str
    export: bytes


def append_all(db: Database, exports: Sequence[Export]) -> list[int]:
    """Append ``exports`` in one statement (in the caller's transaction); a result for each
    (group commit answers each caller with its own)."""
    values = ", ".join("(nextval('otlp_inbox_seq'), ?, ?, ?, ?, ?)" for _ in exports)
    params: list[Any] = []
    for e in exports:
        params += [e.received_at, e.sent_by, e.source_name, e.spans, e.export]
    db.execute(
        "INSERT INTO otlp_inbox (seq, received_at, sent_by, source_name, spans, export) "
        f"VALUES {values}",
        params,
        keeps_cache=True,  # nothing cached reads the inbox
    )
    return [e.spans for e in exports]


def has_waiting(db: Database) -> bool:
    return db.one("SELECT EXISTS (FROM otlp_inbox)") == (True,)


def backlog(db: Database) -> tuple[int, int]:
    """How many exports wait, and how many GenAI spans they hold."""
    row = db.one("SELECT count(*), coalesce(sum(spans), 0) FROM otlp_inbox")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def waiting(db: Database, spans: int) -> list[Waiting]:
    """The oldest exports, as many as hold ``spans`` GenAI spans (at least one export)."""
    # The exports before the first whose predecessors hold ``spans``: found over the counts
    # alone, then read (the window would carry every export's bytes through its sort).
    rows = db.all(
        """SELECT seq, sent_by, source_name, export FROM otlp_inbox
        WHERE seq <= (SELECT max(seq) FROM (SELECT seq FROM otlp_inbox
                      QUALIFY sum(spans) OVER (ORDER BY seq) - spans < ?))
        ORDER BY seq""",
        [spans],
    )
    return [Waiting(r["seq"], r["sent_by"], r["source_name"], r["export"]) for r in rows]


def remove(db: Database, seqs: Sequence[int]) -> None:
    """Remove drained exports (in the caller's transaction)."""
    db.execute(
        "DELETE FROM otlp_inbox WHERE seq IN (SELECT unnest(?::BIGINT[]))",
        [list(seqs)],
        keeps_cache=True,
    )

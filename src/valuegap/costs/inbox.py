"""The OTLP inbox (``ledger.costs.inbox``): trace exports received by the server are committed
as they arrive (as protobuf), with the other exports that arrive meanwhile (group commit), and
answered once durable; a drain then moves their GenAI spans into ``usage_events`` through
``Costs.ingest_spans``, the code of ``ingest usage``, many exports in one ingest.

An ingest of 100 spans costs a third of one of 50,000 (on the 10 M-event ledger, 1.3 s against
4 s: a small one is mostly staging, dedupe and the month's aggregates), and reading spans into
usage events costs far more than committing them as they came: so the server acknowledges
exports at the rate it can commit them, and the drain keeps up by taking all that waits. A
span is in the reports after the drain that moves it: within a few seconds while a server
runs (its drain thread, web/drain.py), else when the ledger is next opened to write
(``Ledger.open``).
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import groupby
from typing import TYPE_CHECKING

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from valuegap.costs.otlp import counted, from_protobuf, read_spans
from valuegap.errors import IngestError, PermissionDenied, Problem
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.store.inbox import (
    Export,
    Waiting,
    append_all,
    backlog,
    has_waiting,
    remove,
    waiting,
)

if TYPE_CHECKING:
    from valuegap.costs.api import Costs

# The most spans one drain moves (at least one export): on a ledger of 10 M events their ingest
# takes about 4 s of CPU, and their documents some 100 MB of memory.
DRAIN_SPANS = 50_000
log = logging.getLogger("valuegap.inbox")


@record
class Drained:
    """What a drain moved: ``exports`` taken from the inbox holding ``spans`` GenAI spans, of
    which ``added`` were new usage events and ``rejected`` were refused for a bad value (the
    ``refused`` problems name them by their position among the drain's spans of one sender,
    ``row``, from 1; an export refused whole names only the first bad ones)."""

    exports: int
    spans: int
    added: int
    rejected: int = 0
    refused: tuple[Problem, ...] = ()

    def __add__(self, other: Drained) -> Drained:
        return Drained(
            self.exports + other.exports,
            self.spans + other.spans,
            self.added + other.added,
            self.rejected + other.rejected,
            self.refused + other.refused,
        )


@record
class Backlog:
    """What waits in the inbox: ``exports`` holding ``spans`` GenAI spans."""

    exports: int
    spans: int


@record
class Received:
    """An export committed to the inbox: its ``spans`` in all, of which ``gen_ai`` GenAI
    spans (the others are not usage: ignored)."""

    spans: int
    gen_ai: int

    @property
    def ignored(self) -> int:
        return self.spans - self.gen_ai


class SpanInbox(Part):
    """Trace exports acknowledged, whose GenAI spans wait to be stored as usage events."""

    def receive(self, request: ExportTraceServiceRequest, *, source_name: str = "otlp") -> Received:
        """Commit an OTLP trace export to the inbox, in one transaction with the exports of
        other callers that arrive meanwhile, and return once it is committed (an export
        without GenAI spans is not kept). Its spans' values are checked when they are drained:
        a span with a bad value is then refused alone (in the log and the audit log)."""
        self._require("cost.write")
        gen_ai, total = counted(request)
        if gen_ai:
            export = Export(
                self.actor, source_name, self._now(), gen_ai, request.SerializeToString()
            )
            # Beside the writer: a drain's ingest holds it for about a second.
            self._db.in_group(export, append_all, commit="beside")
        return Received(total, gen_ai)

    def waiting(self) -> bool:
        """Whether spans wait to be drained."""
        return has_waiting(self._db)

    def backlog(self) -> Backlog:
        """How many exports and spans wait to be drained."""
        return Backlog(*backlog(self._db))

    def drain(self, spans: int = DRAIN_SPANS) -> Drained:
        """Move the oldest waiting exports, about ``spans`` spans, into ``usage_events``: one
        ``ingest_spans`` for each sender, acting as that sender (whose permission was checked
        when the spans came), and the exports removed from the inbox in the same transaction,
        so that a crash neither loses nor doubles them (a span stored already is not stored
        again). A span with a bad value is refused alone: logged, counted in an audit entry
        ``otlp.refuse``, and removed. Needs no permission of the caller: it only completes
        writes acknowledged already."""
        drained = Drained(0, 0, 0)
        with self._db.writing(), _collection_paused():
            exports = sorted(waiting(self._db, spans), key=_sender_of)  # in order, by sender
            for (sent_by, source_name), group in groupby(exports, key=_sender_of):
                try:
                    drained += self._drain(sent_by, source_name, list(group))
                except PermissionDenied as denied:  # the sender lost the role since
                    log.warning("OTLP inbox: spans of %s wait: %s", sent_by, denied)
        return drained

    def drain_all(self) -> Drained:
        """Drain until no span waits, or a drain moves none (the spans of a sender who lost
        the role wait)."""
        drained = Drained(0, 0, 0)
        while self.waiting():
            more = self.drain()
            if not more.exports:
                break
            drained += more
        return drained

    def _drain(self, sent_by: str, source_name: str, exports: list[Waiting]) -> Drained:
        session, costs = self._sender(sent_by)
        documents = [s for e in exports for s in read_spans(from_protobuf(e.export))[0]]
        digest = hashlib.sha256()  # of the exports as acknowledged, for the audit log
        for export in exports:
            digest.update(export.export)
        seqs = [e.seq for e in exports]
        removed: list[bool] = []

        def remove_drained() -> None:
            remove(self._db, seqs)
            removed.append(True)

        try:
            with self._db.with_commit(remove_drained):
                stored = costs.ingest_spans(
                    documents, source_name=source_name, digest=digest.hexdigest()
                )
        except IngestError as error:
            if len(exports) > 1:  # refused whole: each export alone, so that one bad export
                return sum(  # (or many) does not take the others down
                    (self._drain(sent_by, source_name, [e]) for e in exports),
                    Drained(0, 0, 0),
                )
            stored_nothing = Drained(1, len(documents), 0, len(documents), tuple(error.problems))
            self._refused(session, seqs, stored_nothing, remove_drained)
            return stored_nothing
        drained = Drained(
            len(exports), len(documents), stored.added, stored.rejected, stored.refused
        )
        if stored.refused or not removed:
            self._refused(session, seqs, drained, None if removed else remove_drained)
        return drained

    def _refused(
        self, session: Session, seqs: list[int], drained: Drained, write: Callable[[], None] | None
    ) -> None:
        """Record the drain's refusals (in the log and the audit log), removing the exports
        with ``write`` when the ingest did not."""
        with self._db.transaction():
            if write is not None:
                write()
            if not drained.refused:
                return
            shown = [str(problem) for problem in drained.refused[:10]]
            log.warning(
                "OTLP inbox: %d of %d spans refused: %s",
                drained.rejected,
                drained.spans,
                "; ".join(shown),
            )
            session.record(
                "otlp.refuse",
                "otlp_inbox",
                f"{seqs[0]}-{seqs[-1]}",
                None,
                {
                    "spans": drained.spans,
                    "added": drained.added,
                    "refused": drained.rejected,
                    "problems": shown,
                },
            )

    def _sender(self, name: str) -> tuple[Session, Costs]:
        """The ledger's costs acting as the sender of spans."""
        from valuegap.adoption.key_api import PseudonymKeys
        from valuegap.costs.api import Costs

        session = Session(self._db, actor=name, settings=self.settings, clock=self._session.clock)
        keys = PseudonymKeys(session)
        return session, Costs(session, lambda: keys)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a drain makes some ten objects a span that
    live until its end (documents, events, columns), and each pass of the collector that this
    sets off walks the whole heap of the process (a server's is large): a quarter of a drain's
    CPU, measured. Reference counting frees the drain's objects all the same. Only drains,
    one at a time (as the writer), pause it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _sender_of(export: Waiting) -> tuple[str, str]:
    return export.sent_by, export.source_name

"""The server's drain thread: while the server runs, it moves the spans ``/v1/traces``
acknowledged from the inbox into usage events (``ledger.costs.inbox.drain``); on shutdown it
drains what is left.

It looks every ``INTERVAL`` seconds and drains once exports stopped coming (the inbox held the
same at its last look: spans are in the reports within about a second of a quiet moment, when
the drain is not resting), or once a full drain waits (``DRAIN_SPANS``), or ``MAX_WAIT`` seconds
after it first saw exports waiting; one drain each time (what it left waits its turn). A drain's
CPU is taken from the answers (one Python process, one interpreter lock): so while exports keep
coming it drains fewer, larger batches, whose fixed cost (a month's aggregates, the look for
repeated spans among the stored calls: about a second on 10 M events whose month holds 2.7 M) is
paid once for more spans. For the same reason, after a drain it rests ``REST`` times the CPU
time that drain took (not its waits for the writer or the interpreter lock) before the next one,
unless a full drain waits: exports that trickle in (an application's SDK exports every few
seconds) would otherwise have it drain all the time, each drain paying that fixed cost for a few
spans (one export of 100 spans a second kept 85 to 92 % of a core busy on that ledger).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import duckdb

from valuegap.costs.inbox import DRAIN_SPANS, Backlog
from valuegap.errors import ValuegapError
from valuegap.ledger import Ledger

INTERVAL = 0.5
MAX_WAIT = 2.0
REST = 4.0  # after a drain, this many times its CPU time without one (unless a full one waits)
log = logging.getLogger("valuegap.inbox")


class Drainer:
    def __init__(self, ledger: Ledger, interval: float = INTERVAL) -> None:
        self._inbox = ledger.costs.inbox
        self._interval = interval
        self._stopping = threading.Event()
        self._rested = 0.0  # when the last drain's rest ends (time.monotonic())
        self._thread = threading.Thread(target=self._run, name="valuegap-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop, once the drain running (if one is) and a last one are done."""
        self._stopping.set()
        self._thread.join()
        self._drain(self._inbox.drain_all)

    def _run(self) -> None:
        last, since = Backlog(0, 0), 0.0  # the inbox at the last look; when it filled
        while not self._stopping.wait(self._interval):
            try:
                now = self._inbox.backlog()
            except (ValuegapError, duckdb.Error):
                log.exception("The OTLP inbox cannot be read")
                continue
            if not now.exports:
                last = now
                continue
            if not last.exports:
                since = time.monotonic()
            at = time.monotonic()
            if due(now, last, at - since, resting=at < self._rested):
                self._drain(self._inbox.drain)  # one drain: what is left waits its turn
                now = Backlog(0, 0)
            last = now

    def _drain(self, drain: Callable[[], object]) -> None:
        cpu = time.thread_time()  # the drain's own work, which runs on this thread (DuckDB's too)
        try:
            drain()
        except (ValuegapError, duckdb.Error):  # the exports stay in the inbox for the next try
            log.exception("The OTLP inbox was not drained")
        finally:
            self._rested = time.monotonic() + REST * (time.thread_time() - cpu)


def due(now: Backlog, last: Backlog, waited: float, *, resting: bool = False) -> bool:
    """Whether to drain the inbox holding ``now``, which held ``last`` at the previous look
    and has held exports for ``waited`` seconds; ``resting``: within the last drain's rest."""
    if not now.exports:
        return False
    if now.spans >= DRAIN_SPANS:  # a full drain waits
        return True
    quiet = now == last
    return not resting and (quiet or waited >= MAX_WAIT)

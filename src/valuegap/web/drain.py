"""The server's drain thread: while the server runs, it moves the spans ``/v1/traces``
acknowledged from the inbox into usage events (``ledger.costs.inbox.drain``); on shutdown it
drains what is left.

It looks every ``INTERVAL`` seconds and drains once exports stopped coming (the inbox held the
same at its last look: spans are in the reports within about a second of a quiet moment), or
once a full drain waits (``DRAIN_SPANS``), or ``MAX_WAIT`` seconds after it first saw exports
waiting. A drain's CPU is taken from the answers (one Python process, one interpreter lock): so
while exports keep coming it drains fewer, larger batches, whose fixed cost (a month's
aggregates, about half a second on 10 M events) is paid once for more spans.
"""

from __future__ import annotations

import logging
import threading
import time

import duckdb

from valuegap.costs.inbox import DRAIN_SPANS, Backlog
from valuegap.errors import ValuegapError
from valuegap.ledger import Ledger

INTERVAL = 0.5
MAX_WAIT = 2.0
log = logging.getLogger("valuegap.inbox")


class Drainer:
    def __init__(self, ledger: Ledger, interval: float = INTERVAL) -> None:
        self._inbox = ledger.costs.inbox
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="valuegap-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop, once the drain running (if one is) and a last one are done."""
        self._stopping.set()
        self._thread.join()
        self._drain_all()

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
            if due(now, last, time.monotonic() - since):
                self._drain_all()
                now = Backlog(0, 0)
            last = now

    def _drain_all(self) -> None:
        try:
            self._inbox.drain_all()
        except (ValuegapError, duckdb.Error):  # the exports stay in the inbox for the next try
            log.exception("The OTLP inbox was not drained")


def due(now: Backlog, last: Backlog, waited: float) -> bool:
    """Whether to drain the inbox holding ``now``, which held ``last`` at the previous look
    and has held exports for ``waited`` seconds."""
    quiet = now == last
    return now.exports > 0 and (quiet or now.spans >= DRAIN_SPANS or waited >= MAX_WAIT)

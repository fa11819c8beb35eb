"""The server's drain thread: while the server runs, it moves the spans ``/v1/traces``
acknowledged from the inbox into usage events (``ledger.costs.inbox.drain``), looking every
``INTERVAL`` seconds, and at once again while a full drain leaves more; on shutdown it drains
what is left."""

from __future__ import annotations

import logging
import threading

import duckdb

from valuegap.errors import ValuegapError
from valuegap.ledger import Ledger

INTERVAL = 0.5
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
        while not self._stopping.wait(self._interval):
            self._drain_all()

    def _drain_all(self) -> None:
        try:
            self._inbox.drain_all()
        except (ValuegapError, duckdb.Error):  # the exports stay in the inbox for the next try
            log.exception("The OTLP inbox was not drained")

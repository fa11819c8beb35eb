"""The server's alert check: while the server runs, a thread raises the alerts of spend
control's forecasts and anomalies (``ledger.costs.alerts.check_owed``) a minute after it
starts, then every hour. They are not raised on every cost write: the check reads months of
daily spend, seconds on a large ledger, where a write refreshes one month's aggregates."""

from __future__ import annotations

import logging
import threading

from valuegap.ledger import Ledger

FIRST = 60.0  # not at once: the server's start is not slowed, nor a short-lived server's
INTERVAL = 3600.0
log = logging.getLogger("valuegap.alerts")


class AlertChecker:
    def __init__(self, ledger: Ledger, first: float = FIRST, interval: float = INTERVAL) -> None:
        self._alerts = ledger.costs.alerts
        self._first, self._interval = first, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="valuegap-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        wait = self._first
        while not self._stopping.wait(wait):
            try:
                self._alerts.check_owed()
            except Exception:  # a thread's error would go unseen: logged, tried next time
                log.exception("Spend control's alerts were not checked")
            wait = self._interval

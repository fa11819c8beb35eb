"""Running the server under Uvicorn, on one ledger that every request shares."""

from __future__ import annotations

import gc
import logging
from types import FrameType

import uvicorn

from valuegap.ledger import Ledger
from valuegap.store.file_lock import announced
from valuegap.web.app import create_app


class _Server(uvicorn.Server):
    """Uvicorn's server, which on SIGINT or SIGTERM stops and returns, instead of raising the
    signal again once stopped: so that the ledger is closed and the server's note removed."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def run(ledger: Ledger, *, host: str, port: int) -> None:
    """Serve ``ledger`` until interrupted. While it runs, a command on the same file says that
    this server holds it, and where (store/file_lock.py)."""
    url = f"http://{host}:{port}"
    logging.getLogger("valuegap.web").info("valuegap serves %s at %s", ledger.session.path, url)
    config = uvicorn.Config(
        create_app(ledger),
        host=host,
        port=port,
        log_level="info",
        access_log=True,  # method, path and status: never a header or a body, so no token
        server_header=False,
    )
    # What start-up made (modules, the application, the ledger's parts) lives as long as the
    # server: out of the collector's passes, which would otherwise walk all of it again and again.
    gc.freeze()
    with announced(ledger.session.path, url):
        _Server(config).run()

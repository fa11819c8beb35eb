"""Running the server under Uvicorn, on one ledger that every request shares."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
from types import FrameType

import uvicorn

from valuegap.ledger import Ledger
from valuegap.store.file_lock import announced
from valuegap.web.app import create_app

# What the first requests would import: the policy engine (with its command line's
# prompt_toolkit, rich and typer) and pandas, which DuckDB's client imports to bind a
# statement's parameters. Imported after the freeze below, their 60,000 objects were walked
# again by every full collection while the server ran: 50 to 120 ms each, several a minute
# under load. And what the first drain of OTLP spans would import (the usage ingest, the price
# catalogue, pseudonyms, budgets, pyarrow's datasets: 76 modules): a third of a second holding
# the interpreter lock (the price catalogue 0.2 s of it), in which every decision waited.
IMPORTED_BY_REQUESTS = (
    "cel",
    "pandas",
    "genai_prices.data",
    "genai_prices.data_units",
    "genai_prices.update_prices",
    "pyarrow.dataset",
    "valuegap.adoption.key_api",
    "valuegap.costs.budgets",
    "valuegap.costs.currency",
    "valuegap.costs.external_sums",
    "valuegap.costs.spend_alerts",
    "valuegap.costs.usage_format",
    "valuegap.store.cost_lines",
    "valuegap.store.sources",
    "valuegap.store.usage",
)


def freeze_start_up() -> None:
    """Import what requests would, drop start-up's garbage, and leave what remains (modules,
    the application, the ledger's parts: it lives as long as the server) out of the
    collector's passes, which would otherwise walk all of it again and again."""
    for name in IMPORTED_BY_REQUESTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    gc.collect()
    gc.freeze()


class Server(uvicorn.Server):
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
    freeze_start_up()
    with announced(ledger.session.path, url):
        Server(config).run()

"""The cost tests' webhook receiver: started on 127.0.0.1 by a test, it fails first."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from valuegap.model.webhooks import Webhook
from valuegap.settings import Settings


@dataclass
class Receiver:
    """A webhook on 127.0.0.1 that answers 500 to the first ``failures`` POSTs of each path,
    then 200; it keeps what it took (answered 200), by path."""

    failures: int = 1
    taken: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tried: dict[str, int] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (path, Valuegap-Alert)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            found.tried[self.path] = found.tried.get(self.path, 0) + 1
            ok = found.tried[self.path] > found.failures
            if ok:
                found.taken.setdefault(self.path, []).append(body)
                found.keys.append((self.path, self.headers["Valuegap-Alert"]))
            self.send_response(200 if ok else 500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def hooked(receiver: Receiver, **more: Any) -> Settings:
    hooks = (
        Webhook("finance", f"{receiver.url}/generic", "json"),
        Webhook("chat", f"{receiver.url}/services/T0/B0/secret", "slack"),
        Webhook("teams", f"{receiver.url}/teams", "teams"),
    )
    return Settings(alert_webhooks=hooks, webhook_backoff=0.0, **more)

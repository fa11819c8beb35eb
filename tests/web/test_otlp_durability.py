"""A server killed (SIGKILL) in the middle of OTLP load loses no span it acknowledged (each is in
the inbox once acknowledged, and the ledger drains its inbox when next opened to write), and the
audit chain verifies after it."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from valuegap import Ledger

SPANS_A_BATCH = 50


def _batch(number: int) -> tuple[bytes, set[str]]:
    """Batch ``number`` of GenAI spans as protobuf, and the span keys it holds."""
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    keys = set()
    for n in range(SPANS_A_BATCH):
        span = spans.spans.add(name="chat gpt-4o-mini")
        span.trace_id = number.to_bytes(16, "big")
        span.span_id = (n + 1).to_bytes(8, "big")
        span.start_time_unix_nano = 1_764_000_000_000_000_000 + number * 1_000 + n
        for key, value in (
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.request.model", "gpt-4o-mini"),
        ):
            span.attributes.add(key=key).value.string_value = value
        for key, count in (("gen_ai.usage.input_tokens", 500), ("gen_ai.usage.output_tokens", 50)):
            span.attributes.add(key=key).value.int_value = count
        keys.add(f"{span.trace_id.hex()}:{span.span_id.hex()}")
    return bytes(request.SerializeToString()), keys


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    command = "from valuegap.cli import main; main()"
    args = [sys.executable, "-c", command, "--db", str(db), "serve", "--port", str(port)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_killed_server_loses_no_acknowledged_span(tmp_path: Path) -> None:
    db = tmp_path / "ledger.duckdb"
    with Ledger.init(db, actor="alice") as ledger:
        token = ledger.governance.credentials.create_token("alice").secret
    port = _free_port()
    server = _serve(db, port)
    acknowledged: list[set[str]] = []
    stop = threading.Event()
    numbers = itertools.count(1)  # each batch its own trace

    def send() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-protobuf"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            while not stop.is_set():
                body, keys = _batch(next(numbers))
                try:
                    answer = client.post("/v1/traces", content=body, timeout=30)
                except httpx.TransportError:
                    return  # killed while this batch was sent: not acknowledged
                if answer.status_code == 200:
                    acknowledged.append(keys)

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(30)
    stop.set()
    for sender in senders:
        sender.join(60)
    assert len(acknowledged) >= 20

    with Ledger.open(db, actor="alice") as ledger:  # which drains what the server had not
        assert not ledger.costs.inbox.waiting()
        rows = ledger.session.db.all("SELECT event_key FROM usage_events")
        stored = {r["event_key"] for r in rows}
        assert set().union(*acknowledged) <= stored
        assert ledger.governance.audit.verify_audit().ok

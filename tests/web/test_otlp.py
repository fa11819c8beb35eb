"""POST /v1/traces, the OTLP/HTTP receiver: the OpenTelemetry SDK's own exporter against a real
server, OTLP/JSON and gzip, partial success, and every refusal."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from valuegap import Ledger
from valuegap.web.app import create_app

# The catalogue's prices, in dollars per million tokens (input, output), for prompts under
# 200,000 tokens (claude-sonnet-4-5 charges more above).
PRICES = {
    ("openai", "gpt-4o"): (Decimal("2.50"), Decimal("10.00")),
    ("openai", "gpt-4o-mini"): (Decimal("0.15"), Decimal("0.60")),
    ("anthropic", "claude-sonnet-4-5"): (Decimal("3.00"), Decimal("15.00")),
    ("anthropic", "claude-3-5-haiku"): (Decimal("0.80"), Decimal("4.00")),
}
MODELS = list(PRICES)


def _genai_spans(count: int, *, other: int = 0) -> list[ReadableSpan]:
    """``count`` GenAI chat spans over the four models (half name the provider by the old
    gen_ai.system), and ``other`` HTTP spans, as the SDK records them."""
    spans = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "loc-qa-api"}))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = provider.get_tracer("openai")
    for n in range(count):
        system, model = MODELS[n % len(MODELS)]
        with tracer.start_as_current_span(f"chat {model}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            key = "gen_ai.provider.name" if n % 2 else "gen_ai.system"
            span.set_attribute(key, system)
            span.set_attribute("gen_ai.request.model", model)
            span.set_attribute("gen_ai.response.model", model)
            span.set_attribute("gen_ai.usage.input_tokens", 1_000 + 37 * n)
            span.set_attribute("gen_ai.usage.output_tokens", 200 + 11 * n)
            span.set_attribute("valuegap.initiative", "loc-qa")
    for n in range(other):
        with tracer.start_as_current_span("GET /health") as span:
            span.set_attribute("http.request.method", "GET")
    provider.shutdown()
    return list(spans.get_finished_spans())


def _expected(spans: list[ReadableSpan]) -> tuple[int, int, Decimal]:
    """Input and output tokens and their cost, by the prices above."""
    inputs = outputs = 0
    cost = Decimal(0)
    for span in spans:
        attrs = span.attributes or {}
        if "gen_ai.request.model" not in attrs:
            continue
        system = attrs.get("gen_ai.provider.name") or attrs["gen_ai.system"]
        price_in, price_out = PRICES[(str(system), str(attrs["gen_ai.request.model"]))]
        tokens_in = int(attrs["gen_ai.usage.input_tokens"])  # type: ignore[arg-type]
        tokens_out = int(attrs["gen_ai.usage.output_tokens"])  # type: ignore[arg-type]
        inputs, outputs = inputs + tokens_in, outputs + tokens_out
        cost += (tokens_in * price_in + tokens_out * price_out) / 1_000_000
    return inputs, outputs, cost


def _key(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"{context.trace_id:032x}:{context.span_id:016x}"


def _stored(ledger: Ledger) -> tuple[set[str], int, int, Decimal]:
    rows = ledger.session.db.all(
        "SELECT event_key, input_tokens, output_tokens, computed_cost FROM usage_events"
    )
    return (
        {r["event_key"] for r in rows},
        sum(r["input_tokens"] for r in rows),
        sum(r["output_tokens"] for r in rows),
        sum((r["computed_cost"] for r in rows), Decimal(0)),
    )


@pytest.fixture
def server(ledger: Ledger) -> Iterator[str]:
    """A real server over ``ledger`` on a free loopback port, in a thread: its URL."""
    config = uvicorn.Config(create_app(ledger), host="127.0.0.1", port=0, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    port = served.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(20)


def test_the_sdk_exporter_lands_the_spans_usage_and_cost_once(
    ledger: Ledger, server: str
) -> None:
    token = ledger.governance.credentials.create_token("alice").secret
    spans = _genai_spans(600, other=150)
    exporter = OTLPSpanExporter(
        endpoint=f"{server}/v1/traces", headers={"Authorization": f"Bearer {token}"}
    )
    for start in range(0, len(spans), 250):
        assert exporter.export(spans[start : start + 250]) == SpanExportResult.SUCCESS
    keys, inputs, outputs, cost = _stored(ledger)
    expected_in, expected_out, expected_cost = _expected(spans)
    assert keys == {_key(s) for s in spans if s.name.startswith("chat")}
    assert len(keys) == 600
    assert (inputs, outputs) == (expected_in, expected_out)
    assert cost == expected_cost
    # Exactly: 150 spans of each model; n = m, m+4, ...: sum(1000 + 37n) * price, by hand for
    # gpt-4o (n = 0, 4, ..., 596): inputs 150 * 1000 + 37 * 4 * (149 * 150 / 2) = 1,803,900.
    gpt4o_inputs = ledger.session.db.one(
        "SELECT sum(input_tokens) FROM usage_events WHERE request_model = 'gpt-4o'"
    )
    assert gpt4o_inputs is not None and gpt4o_inputs[0] == 1_803_900
    audit = len(ledger.governance.audit.audit_log())
    assert exporter.export(spans) == SpanExportResult.SUCCESS  # the same spans again
    assert _stored(ledger) == (keys, inputs, outputs, cost)
    assert len(ledger.governance.audit.audit_log()) == audit  # and nothing to record
    exporter.shutdown()


def test_the_exporter_without_a_valid_token_stores_nothing(ledger: Ledger, server: str) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"{server}/v1/traces", headers={"Authorization": "Bearer vgt_not-a-token"}
    )
    assert exporter.export(_genai_spans(8)) == SpanExportResult.FAILURE
    assert _stored(ledger)[0] == set()
    exporter.shutdown()

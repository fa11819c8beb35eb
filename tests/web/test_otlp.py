"""POST /v1/traces, the OTLP/HTTP receiver: the OpenTelemetry SDK's own exporter against a real
server, OTLP/JSON and gzip, bad spans refused alone when drained, and every refusal. What the
receiver acknowledged is stored by the next drain: ``_stored`` drains first."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

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
from valuegap.costs.inbox import Backlog
from valuegap.web import drain as drain_module
from valuegap.web.app import create_app
from valuegap.web.drain import Drainer, due

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
    for _ in range(other):
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
    """The usage events once the inbox is drained (the server's drain thread may have done it
    already)."""
    ledger.costs.inbox.drain_all()
    assert not ledger.costs.inbox.waiting()
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


def test_the_sdk_exporter_lands_the_spans_usage_and_cost_once(ledger: Ledger, server: str) -> None:
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


def _span_json(n: int, model: str = "gpt-4o", **attributes: Any) -> dict[str, Any]:
    provider = "anthropic" if model.startswith("claude") else "openai"
    attrs = {
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": 1_000 * n,
        "gen_ai.usage.output_tokens": 100 * n,
        **attributes,
    }
    values = [
        {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
        for k, v in attrs.items()
    ]
    return {
        "traceId": f"{n:032x}",
        "spanId": f"{n:016x}",
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": 1_764_000_000_000_000_000 + n,
        "attributes": values,
    }


def _export_json(*spans: dict[str, Any]) -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "loc-qa"}}]}
    scoped = {"scope": {"name": "openai"}, "spans": list(spans)}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [scoped]}]}


def _http_span(n: int) -> dict[str, Any]:
    attrs = [{"key": "http.request.method", "value": {"stringValue": "GET"}}]
    return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "GET", "attributes": attrs}


@pytest.fixture
def client(ledger: Ledger) -> TestClient:
    token = ledger.governance.credentials.create_token("alice").secret
    return TestClient(create_app(ledger), headers={"Authorization": f"Bearer {token}"})


JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _protobuf(document: dict[str, Any]) -> bytes:
    """The OTLP/JSON document as protobuf, converted independently of the receiver."""
    request = ExportTraceServiceRequest()
    for resource_spans in document["resourceSpans"]:
        added = request.resource_spans.add()
        for item in resource_spans["resource"]["attributes"]:
            added.resource.attributes.add(key=item["key"]).value.string_value = "loc-qa"
        for scope_spans in resource_spans["scopeSpans"]:
            scoped = added.scope_spans.add()
            scoped.scope.name = scope_spans["scope"]["name"]
            for span in scope_spans["spans"]:
                out = scoped.spans.add(name=span["name"])
                out.trace_id = bytes.fromhex(span["traceId"])
                out.span_id = bytes.fromhex(span["spanId"])
                out.start_time_unix_nano = int(span.get("startTimeUnixNano", 0))
                for item in span["attributes"]:
                    value = out.attributes.add(key=item["key"]).value
                    if "intValue" in item["value"]:
                        value.int_value = int(item["value"]["intValue"])
                    else:
                        value.string_value = item["value"]["stringValue"]
    return bytes(request.SerializeToString())


def test_otlp_json_is_stored_and_other_spans_are_counted_and_ignored(
    ledger: Ledger, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    document = _export_json(_span_json(1), _http_span(2), _span_json(3, "gpt-4o-mini"))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = str(
        1_764_000_000_000_000_001
    )  # int64 as a string, as well as a number
    with caplog.at_level(logging.DEBUG, logger="valuegap.web"):
        answer = client.post("/v1/traces", content=json.dumps(document), headers=JSON)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {}  # nothing refused
    assert "3 spans, 2 GenAI received, 1 without GenAI attributes ignored" in caplog.text
    keys, inputs, outputs, cost = _stored(ledger)
    assert keys == {f"{1:032x}:{1:016x}", f"{3:032x}:{3:016x}"}
    assert (inputs, outputs) == (4_000, 400)
    # gpt-4o: 1,000 in at $2.50/M + 100 out at $10/M; gpt-4o-mini: 3,000 at 0.15, 300 at 0.60
    assert cost == Decimal("0.0025") + Decimal("0.001") + Decimal("0.00045") + Decimal("0.00018")


def test_gzip_protobuf_of_spans_sent_as_json_adds_nothing(
    ledger: Ledger, client: TestClient
) -> None:
    document = _export_json(*(_span_json(n, MODELS[n % 4][1]) for n in range(1, 201)))
    body = gzip.compress(json.dumps(document).encode())
    sent = client.post("/v1/traces", content=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert sent.status_code == 200, sent.text
    stored = _stored(ledger)
    assert len(stored[0]) == 200 and stored[1] == 1_000 * 200 * 201 // 2
    again = client.post(
        "/v1/traces",
        content=gzip.compress(_protobuf(document)),
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
    )
    assert again.status_code == 200
    assert again.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(again.content)
    assert not answer.HasField("partial_success")
    assert _stored(ledger) == stored  # the same spans, by trace and span id


def test_bad_spans_are_refused_alone_when_drained_and_recorded(
    ledger: Ledger, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    spans = [_span_json(n) for n in range(1, 6)]
    spans[1]["attributes"][2]["value"] = {"intValue": "-5"}  # input tokens of span 2
    spans[3]["attributes"][3]["value"] = {"stringValue": "many"}  # output tokens of span 4
    del spans[4]["startTimeUnixNano"]  # span 5: no time
    answer = client.post("/v1/traces", content=_protobuf(_export_json(*spans)), headers=PROTOBUF)
    assert answer.status_code == 200  # acknowledged: the values are checked by the drain
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    with caplog.at_level(logging.WARNING, logger="valuegap.inbox"):
        keys, inputs, _, _ = _stored(ledger)
    assert keys == {f"{1:032x}:{1:016x}", f"{3:032x}:{3:016x}"} and inputs == 4_000
    assert "3 of 5 spans refused" in caplog.text
    assert all(f"row {n}" in caplog.text for n in (2, 4, 5))
    refusals = [e for e in ledger.governance.audit.audit_log() if e.action == "otlp.refuse"]
    assert len(refusals) == 1 and refusals[0].actor == "alice"
    recorded = json.loads(refusals[0].after or "{}")
    assert (recorded["spans"], recorded["added"], recorded["refused"]) == (5, 2, 3)
    again = client.post("/v1/traces", content=json.dumps(_export_json(*spans)), headers=JSON)
    assert again.json() == {}
    assert _stored(ledger)[0] == keys


def test_an_export_of_only_bad_spans_is_refused_whole_when_drained(
    ledger: Ledger, client: TestClient
) -> None:
    span = _span_json(1)
    span["attributes"][2]["value"] = {"intValue": "-5"}
    answer = client.post("/v1/traces", content=json.dumps(_export_json(span)), headers=JSON)
    assert answer.status_code == 200
    assert _stored(ledger)[0] == set()  # and the inbox is empty: the span does not block it
    refusals = [e for e in ledger.governance.audit.audit_log() if e.action == "otlp.refuse"]
    assert [json.loads(e.after or "{}")["refused"] for e in refusals] == [1]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "text/plain"}, b"{}"),
        ({"Content-Type": "application/x-ndjson"}, b"{}"),
        ({**JSON, "Content-Encoding": "br"}, b"{}"),
    ],
    ids=["text", "ndjson", "brotli"],
)
def test_other_media_types_and_encodings_get_415(
    client: TestClient, headers: dict[str, str], body: bytes
) -> None:
    answer = client.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (JSON, b'{"resourceSpans": [}'),
        (JSON, b'{"resourceSpans": "spans"}'),
        (JSON, json.dumps(_export_json({**_span_json(1), "traceId": "not hex"})).encode()),
        (JSON, b"[" * 100_000),
        ({**JSON, "Content-Encoding": "gzip"}, gzip.compress(b"{}", mtime=0)[:-4]),
        ({**JSON, "Content-Encoding": "gzip"}, b"not gzip"),
    ],
    ids=["broken", "not-otlp", "ids-not-hex", "too-deep", "gzip-cut-short", "not-gzip"],
)
def test_undecodable_json_gets_400_as_problem_details(
    ledger: Ledger, client: TestClient, headers: dict[str, str], body: bytes
) -> None:
    answer = client.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "urn:valuegap:problem:validation"
    assert _stored(ledger)[0] == set()


def test_undecodable_protobuf_gets_400_as_a_status(client: TestClient) -> None:
    answer = client.post("/v1/traces", content=b"\x0a\xff\xff\xff", headers=PROTOBUF)
    assert answer.status_code == 400
    status = Status.FromString(answer.content)
    assert status.code == 3  # INVALID_ARGUMENT
    assert "not a protobuf ExportTraceServiceRequest" in status.message


def test_a_gzip_bomb_gets_413_and_stores_nothing(ledger: Ledger, client: TestClient) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB in 64 KiB
    assert len(bomb) < 1024 * 1024
    answer = client.post(
        "/v1/traces", content=bomb, headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413
    assert Status.FromString(answer.content).code == 8  # RESOURCE_EXHAUSTED
    assert _stored(ledger)[0] == set()


def test_without_a_token_401_and_with_a_viewer_token_403(
    ledger: Ledger, client: TestClient
) -> None:
    body = json.dumps(_export_json(_span_json(1)))
    bare = TestClient(create_app(ledger))
    assert bare.post("/v1/traces", content=body, headers=JSON).status_code == 401
    unauthenticated = bare.post(
        "/v1/traces", content=_protobuf(_export_json(_span_json(1))), headers=PROTOBUF
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    assert Status.FromString(unauthenticated.content).code == 16  # UNAUTHENTICATED
    ledger.governance.users.add_user("vera", "viewer")
    token = ledger.governance.credentials.create_token("vera").secret
    viewer = bare.post(
        "/v1/traces", content=body, headers={**JSON, "Authorization": f"Bearer {token}"}
    )
    assert viewer.status_code == 403
    assert "cost" in viewer.json()["detail"]
    assert _stored(ledger)[0] == set()


def test_the_server_drains_within_about_a_second_while_it_runs(ledger: Ledger) -> None:
    token = ledger.governance.credentials.create_token("alice").secret
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    with TestClient(create_app(ledger), headers=headers) as running:  # its lifespan: the thread
        sent = running.post("/v1/traces", content=json.dumps(_export_json(_span_json(1))))
        assert sent.status_code == 200
        deadline = time.monotonic() + 10
        while ledger.costs.inbox.waiting():
            assert time.monotonic() < deadline, "the drain thread did not drain"
            time.sleep(0.05)
        assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (1,)


def test_a_drainer_stopping_drains_what_is_left(ledger: Ledger) -> None:
    drainer = Drainer(ledger, interval=3_600)  # it would not look again for an hour
    drainer.start()
    request = ExportTraceServiceRequest.FromString(_protobuf(_export_json(_span_json(1))))
    ledger.costs.inbox.receive(request)
    drainer.stop()
    assert not ledger.costs.inbox.waiting()
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (1,)


def test_the_drain_thread_waits_while_exports_keep_coming_for_two_seconds_at_most() -> None:
    empty, one, two = Backlog(0, 0), Backlog(1, 100), Backlog(2, 200)
    assert not due(empty, empty, 0)
    assert not due(one, empty, 0)  # exports came since the last look
    assert due(one, one, 0.5)  # none since: quiet
    assert not due(two, one, 1.5)  # still coming
    assert due(two, one, 2.0)  # but no longer than two seconds
    assert due(Backlog(500, 50_000), Backlog(400, 40_000), 0.5)  # a full drain waits


def test_the_drain_thread_rests_after_a_drain_unless_a_full_drain_waits() -> None:
    one, full = Backlog(1, 100), Backlog(500, 50_000)
    assert not due(one, one, 0.5, resting=True)  # quiet, but within the last drain's rest
    assert not due(one, one, 9.0, resting=True)  # however long the exports waited
    assert due(one, one, 9.0)  # once it has rested
    assert due(full, one, 0.5, resting=True)


class _Trickle:
    """An inbox where an export arrives between every other look (exports trickle in), each of
    whose drains takes 50 ms of CPU."""

    def __init__(self) -> None:
        self.looks = self.drains = 0

    def backlog(self) -> Backlog:
        self.looks += 1
        exports = 1 + self.looks // 2
        return Backlog(exports, 100 * exports)

    def drain(self) -> None:
        self.drains += 1
        started = time.thread_time()
        while time.thread_time() - started < 0.05:
            pass

    def drain_all(self) -> None:
        raise AssertionError("the drain thread drains once a turn, not until nothing waits")


def test_exports_that_trickle_in_are_drained_a_fifth_of_the_time_at_most() -> None:
    inbox = _Trickle()
    drainer = Drainer(cast(Any, SimpleNamespace(costs=SimpleNamespace(inbox=inbox))), 0.01)
    drainer.start()
    time.sleep(1.0)
    drainer._stopping.set()
    drainer._thread.join()
    # Each 50 ms drain rests 200 ms after it; without the rest, one every other look (some 14).
    assert 1 <= inbox.drains <= 5, inbox.drains
    assert inbox.looks > 20


def test_a_drainer_rests_for_its_drains_cpu_time_times_the_rest(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    drainer = Drainer(ledger)
    cpu = iter([7.0, 8.5])  # the drain took 1.5 s of this thread's CPU, however long it waited
    clock = SimpleNamespace(thread_time=lambda: next(cpu), monotonic=lambda: 100.0)
    monkeypatch.setattr(drain_module, "time", clock)
    drainer._drain(lambda: None)
    assert drainer._rested == 100.0 + 1.5 * drain_module.REST


def test_a_drain_waiting_for_the_writer_does_not_rest_for_the_wait(ledger: Ledger) -> None:
    drainer = Drainer(ledger)
    writing = threading.Event()

    def another_write() -> None:
        with ledger.session.db.writing():
            writing.set()
            time.sleep(1.0)

    writer = threading.Thread(target=another_write)
    writer.start()
    writing.wait()
    drainer._drain(ledger.costs.inbox.drain)  # waits about a second for the writer
    writer.join()
    assert drainer._rested - time.monotonic() < 2.0  # not four times the wait

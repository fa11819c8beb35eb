"""The OTLP inbox (``ledger.costs.inbox``): exports committed by concurrent callers (group
commit), then drained into usage events, all or nothing, on demand and on open; bad spans
refused alone."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from valuegap import Ledger
from valuegap.store import costs as cost_store

# gpt-4o-mini at $0.15 / $0.60 per million tokens (input, output).
TOKENS_IN, TOKENS_OUT = 2_000, 500


def _export(trace: int, spans: int, *, bad: set[int] = frozenset(), other: int = 0) -> Any:
    """Trace ``trace`` with ``spans`` GenAI spans (ids 1..spans; those in ``bad`` with a
    negative input token count) and ``other`` spans without GenAI attributes."""
    request = ExportTraceServiceRequest()
    scoped = request.resource_spans.add().scope_spans.add()
    for n in range(1, spans + other + 1):
        span = scoped.spans.add(name="chat")
        span.trace_id = trace.to_bytes(16, "big")
        span.span_id = n.to_bytes(8, "big")
        span.start_time_unix_nano = 1_764_000_000_000_000_000 + trace * 1_000 + n
        if n > spans:
            span.attributes.add(key="http.request.method").value.string_value = "GET"
            continue
        for key, text in (
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.request.model", "gpt-4o-mini"),
        ):
            span.attributes.add(key=key).value.string_value = text
        tokens_in = -1 if n in bad else TOKENS_IN
        span.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = tokens_in
        span.attributes.add(key="gen_ai.usage.output_tokens").value.int_value = TOKENS_OUT
    return request


def _events(ledger: Ledger) -> list[str]:
    rows = ledger.session.db.all("SELECT event_key FROM usage_events ORDER BY event_key")
    return [r["event_key"] for r in rows]


def _key(trace: int, span: int) -> str:
    return f"{trace:032x}:{span:016x}"


def _inbox(ledger: Ledger) -> int:
    row = ledger.session.db.one("SELECT count(*) FROM otlp_inbox")
    return int(row[0]) if row else 0


def test_concurrent_exports_are_each_stored_once_and_a_resent_one_adds_nothing(
    ledger: Ledger,
) -> None:
    threads, batches, spans = 8, 20, 10
    received: list[int] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        for batch in range(batches):
            trace = thread * 1_000 + batch + 1
            got = ledger.costs.inbox.receive(_export(trace, spans, other=2))
            with lock:
                received.append(got.gen_ai)

    senders = [threading.Thread(target=send, args=(t,)) for t in range(threads)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert received == [spans] * (threads * batches)
    assert _inbox(ledger) == threads * batches  # each committed before its answer
    drained = ledger.costs.inbox.drain_all()
    assert (drained.exports, drained.spans, drained.added) == (160, 1_600, 1_600)
    expected = {
        _key(t * 1_000 + b + 1, n)
        for t in range(threads)
        for b in range(batches)
        for n in range(1, spans + 1)
    }
    stored = _events(ledger)
    assert len(stored) == 1_600 and set(stored) == expected
    cost = ledger.session.db.one("SELECT sum(computed_cost) FROM usage_events")
    # 1,600 spans of 2,000 tokens in at $0.15/M and 500 out at $0.60/M: 1,600 * $0.0006
    assert cost is not None and cost[0] == Decimal("0.96")
    audit = len(ledger.governance.audit.audit_log())
    ledger.costs.inbox.receive(_export(3_005, spans))  # sent again
    assert ledger.costs.inbox.drain().added == 0
    assert _events(ledger) == stored and _inbox(ledger) == 0
    assert len(ledger.governance.audit.audit_log()) == audit


def test_an_export_without_gen_ai_spans_is_not_kept(ledger: Ledger) -> None:
    received = ledger.costs.inbox.receive(_export(1, 0, other=3))
    assert (received.spans, received.gen_ai, received.ignored) == (3, 0, 3)
    assert not ledger.costs.inbox.waiting()


def test_a_drain_that_fails_leaves_the_inbox_and_stores_nothing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    for trace in (1, 2, 3):
        ledger.costs.inbox.receive(_export(trace, 5))

    def broken(*_: Any) -> None:
        raise RuntimeError("the disk is full")

    # After the events are inserted, before the ingest commits.
    monkeypatch.setattr(cost_store.CostStore, "add_usage_of_ingests", broken)
    with pytest.raises(RuntimeError):
        ledger.costs.inbox.drain()
    assert _events(ledger) == [] and _inbox(ledger) == 3
    monkeypatch.undo()
    assert ledger.costs.inbox.drain().added == 15
    assert len(_events(ledger)) == 15 and _inbox(ledger) == 0


def test_a_drain_takes_the_oldest_exports_up_to_its_spans(ledger: Ledger) -> None:
    for trace in range(1, 6):
        ledger.costs.inbox.receive(_export(trace, 10))
    first = ledger.costs.inbox.drain(spans=25)  # the third export passes 25: the last taken
    assert (first.exports, first.spans) == (3, 30)
    assert {key.split(":")[0] for key in _events(ledger)} == {f"{t:032x}" for t in (1, 2, 3)}
    assert ledger.costs.inbox.drain(spans=1).exports == 1  # at least one export
    assert ledger.costs.inbox.drain_all().exports == 1 and len(_events(ledger)) == 50


def test_bad_spans_are_refused_alone_and_never_block_the_inbox(ledger: Ledger) -> None:
    ledger.costs.inbox.receive(_export(1, 4, bad={2}))
    ledger.costs.inbox.receive(_export(2, 3, bad={1, 2, 3}))  # every span bad
    # More bad spans than ingest_spans retries for (16): the export is refused whole, as an
    # ingest of it would be, and the other exports of the drain are stored.
    ledger.costs.inbox.receive(_export(3, 30, bad=set(range(1, 21))))
    ledger.costs.inbox.receive(_export(4, 2))
    drained = ledger.costs.inbox.drain()
    assert set(_events(ledger)) == {_key(1, 1), _key(1, 3), _key(1, 4), _key(4, 1), _key(4, 2)}
    assert _inbox(ledger) == 0
    assert (drained.exports, drained.spans, drained.added, drained.rejected) == (4, 39, 5, 34)
    refusals = [
        json.loads(entry.after or "{}")
        for entry in ledger.governance.audit.audit_log()
        if entry.action == "otlp.refuse"
    ]
    assert sorted((r["spans"], r["added"], r["refused"]) for r in refusals) == [
        (3, 0, 3),
        (4, 3, 1),
        (30, 0, 30),
    ]


def test_a_sender_without_the_role_waits_and_others_drain(ledger: Ledger) -> None:
    ledger.governance.users.add_user("carl", "finance")
    carl = ledger.acting_as("carl")
    carl.costs.inbox.receive(_export(1, 2))
    ledger.costs.inbox.receive(_export(2, 2))
    ledger.governance.users.add_user("carl", "viewer")  # demoted since
    assert ledger.costs.inbox.drain_all().exports == 1
    assert set(_events(ledger)) == {_key(2, 1), _key(2, 2)} and _inbox(ledger) == 1
    ledger.governance.users.add_user("carl", "finance")
    ledger.costs.inbox.drain_all()
    assert len(_events(ledger)) == 4 and _inbox(ledger) == 0


def test_a_ledger_opened_to_write_drains_its_inbox(db_path: Path) -> None:
    with Ledger.init(db_path, actor="alice") as ledger:
        ledger.costs.inbox.receive(_export(1, 3))
        ledger.costs.inbox.receive(_export(2, 3))
    with Ledger.open(db_path, actor="alice", read_only=True) as reader:
        assert reader.costs.inbox.waiting()  # a reader writes nothing, so drains nothing
    with Ledger.open(db_path, actor="bob") as ledger:  # not even a user: the drain acts as alice
        assert len(_events(ledger)) == 6 and not ledger.costs.inbox.waiting()
        assert ledger.acting_as("alice").governance.audit.verify_audit().ok


def test_an_export_is_committed_while_a_long_write_holds_the_writer(ledger: Ledger) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # as a drain's ingest holds it, for about a second
        with ledger.session.db.transaction():
            ledger.session.db.set_meta("held", "yes")
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=hold)
    writer.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert ledger.costs.inbox.receive(_export(1, 3)).gen_ai == 3
        assert time.monotonic() - started < 10  # not 30 s behind the writer
        assert _inbox(ledger) == 1  # committed, seen from another transaction
    finally:
        release.set()
        writer.join()
    assert ledger.costs.inbox.drain().added == 3


def _short_ids(pairs: list[tuple[bytes, bytes]]) -> Any:
    """An export of one GenAI span for each (trace id, span id) given, ids of any length."""
    request = ExportTraceServiceRequest()
    scoped = request.resource_spans.add().scope_spans.add()
    for n, (trace, span_id) in enumerate(pairs, start=1):
        span = scoped.spans.add(name="chat", trace_id=trace, span_id=span_id)
        span.start_time_unix_nano = 1_764_000_000_000_000_000 + n
        span.attributes.add(key="gen_ai.request.model").value.string_value = "gpt-4o-mini"
        span.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = TOKENS_IN
    return request


def test_a_span_stored_already_adds_nothing_whatever_the_length_of_the_ids(
    ledger: Ledger,
) -> None:
    # 300 calls from a file, keyed by ids of 5 to 7 characters, one of them "0a:0b": the key
    # of the span with trace id 0x0a and span id 0x0b.
    lines = [f"req-{n},2025-11-24T10:00:00Z,gpt-4o-mini,100" for n in range(1, 300)]
    csv = "event_id,timestamp,model,input_tokens\n0a:0b,2025-11-24T10:00:00Z,gpt-4o-mini,100\n"
    ledger.costs.ingest_usage(("\n".join([csv.rstrip("\n"), *lines]) + "\n").encode(), "csv")
    assert len(_events(ledger)) == 300
    short = [(bytes([n]), bytes([n + 1])) for n in range(10, 20)]  # keys of 5 characters
    middle = [(n.to_bytes(8, "big"), n.to_bytes(8, "big")) for n in range(1, 11)]  # of 33
    for trace in range(1, 21):  # 2,000 spans keyed by 49 characters
        ledger.costs.inbox.receive(_export(trace, 100))
    ledger.costs.inbox.receive(_short_ids(short + middle))
    # "0a:0b" was stored from the file: 2,000 + 9 + 10 new
    assert ledger.costs.inbox.drain_all().added == 2_019
    assert len(_events(ledger)) == 2_319
    # All of them sent again, with 1,000 new spans (keyed by 49 characters) and two new
    # short ones ("01:02", "01020304:05")
    for trace in range(1, 21):
        ledger.costs.inbox.receive(_export(trace, 100))
    ledger.costs.inbox.receive(_short_ids([*short, *middle, (b"\x01", b"\x02")]))
    ledger.costs.inbox.receive(_short_ids([(b"\x01\x02\x03\x04", b"\x05")]))
    for trace in range(21, 31):
        ledger.costs.inbox.receive(_export(trace, 100))
    drained = ledger.costs.inbox.drain_all()
    assert (drained.spans, drained.added) == (2_000 + 21 + 1 + 1_000, 1_000 + 2)
    assert len(_events(ledger)) == 3_321
    # A span without ids (keyed by its values) beside ones sent again: it alone is new
    ledger.costs.inbox.receive(_short_ids([*short, (b"", b"")]))
    assert ledger.costs.inbox.drain_all().added == 1
    assert len(_events(ledger)) == 3_322
    assert ledger.governance.audit.verify_audit().ok


def test_a_span_starts_when_its_nanoseconds_say_to_the_microsecond(ledger: Ledger) -> None:
    # 1,764,000,000 s after the epoch is 2025-11-24 16:00:00 UTC; a start a nanosecond before
    # the next second is rounded into it (the ledger keeps microseconds).
    starts = {
        1: 1_764_000_000_000_000_000,
        2: 1_764_000_000_500_000_000,
        3: 1_764_000_000_999_999_999,
        4: 1_764_000_000_000_001_000,
        5: 1_764_000_000_250_000_000,
    }
    request = _export(1, len(starts))
    for span in request.resource_spans[0].scope_spans[0].spans:
        span.start_time_unix_nano = starts[int.from_bytes(span.span_id, "big")]
    ledger.costs.inbox.receive(request)
    ledger.costs.inbox.drain_all()
    rows = ledger.session.db.all("SELECT event_key, ts FROM usage_events ORDER BY event_key")
    second = datetime(2025, 11, 24, 16, 0, 0)
    assert [r["ts"] for r in rows] == [
        second,
        second + timedelta(microseconds=500_000),
        second + timedelta(seconds=1),
        second + timedelta(microseconds=1),
        second + timedelta(microseconds=250_000),
    ]

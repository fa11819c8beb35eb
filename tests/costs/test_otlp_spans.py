"""OTLP exports (protobuf and OTLP/JSON) as the usage reader's documents, and
``ledger.costs.ingest_spans``: a bad span refused alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.costs.api import MAX_SPAN_RETRIES
from valuegap.costs.otlp import from_json, from_protobuf, gen_ai_spans
from valuegap.errors import IngestError, ValidationError


def _span(n: int, input_tokens: Any = 1_000, **more: Any) -> dict[str, Any]:
    attrs = {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": 100,
        **more,
    }
    return {
        "traceId": f"{n:032x}",
        "spanId": f"{n:016x}",
        "startTimeUnixNano": str(1_764_000_000_000_000_000 + n),
        "attributes": [{"key": k, "value": _value(v)} for k, v in attrs.items()],
    }


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}


def _export(*spans: dict[str, Any], resource: dict[str, Any] | None = None) -> bytes:
    attributes = [{"key": k, "value": _value(v)} for k, v in (resource or {}).items()]
    scoped = {"scope": {"name": "openai.instrumentation"}, "spans": list(spans)}
    document = {"resourceSpans": [{"resource": {"attributes": attributes}, "scopeSpans": [scoped]}]}
    return json.dumps(document).encode()


def test_json_and_protobuf_give_the_same_documents_with_hex_ids() -> None:
    method = {"key": "http.request.method", "value": {"stringValue": "GET"}}
    http = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "GET", "attributes": [method]}
    body = _export(
        _span(7, team="ml", cached=True, ratio=0.5), http, resource={"service.name": "a"}
    )
    from_text = from_json(body)
    spans = gen_ai_spans(from_text)
    assert (spans.total, spans.ignored, len(spans.documents)) == (2, 1, 1)
    [document] = spans.documents
    [resource_spans] = document["resourceSpans"]
    assert resource_spans["resource"]["attributes"] == {"service.name": "a"}
    [scoped] = resource_spans["scopeSpans"]
    assert scoped["scope"] == {"name": "openai.instrumentation"}
    [span] = scoped["spans"]
    assert span["traceId"] == "0" * 31 + "7" and span["spanId"] == "0" * 15 + "7"
    assert span["startTimeUnixNano"] == 1_764_000_000_000_000_007
    assert span["attributes"]["gen_ai.usage.input_tokens"] == 1_000
    assert span["attributes"]["cached"] is True and span["attributes"]["ratio"] == 0.5
    assert gen_ai_spans(from_protobuf(from_text.SerializeToString())) == spans


def test_a_resource_with_gen_ai_attributes_makes_its_spans_gen_ai() -> None:
    plain = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "call", "attributes": []}
    spans = gen_ai_spans(from_json(_export(plain, resource={"gen_ai.system": "openai"})))
    assert (spans.total, spans.ignored) == (1, 0)


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"resourceSpans": 3}', _export({**_span(1), "spanId": "xyz"}), b"\xff"],
)
def test_what_is_not_otlp_json_is_refused(body: bytes) -> None:
    with pytest.raises(ValidationError, match="decoded"):
        from_json(body)


def test_what_is_not_protobuf_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a protobuf"):
        from_protobuf(b"\x0a\x05\x01")


def test_a_bad_span_is_refused_alone_and_named_by_its_position(ledger: Ledger) -> None:
    spans = [_span(1), _span(2, -3), _span(3), _span(4, "lots"), _span(5)]
    spans[1]["attributes"][3]["value"] = {"doubleValue": 1.5}  # span 2's output tokens too
    documents = gen_ai_spans(from_json(_export(*spans))).documents
    stored = ledger.costs.ingest_spans(documents)
    assert (stored.spans, stored.added) == (5, 3)
    assert [(p.row, p.column, p.value) for p in stored.refused] == [
        (2, "input_tokens", "-3"),
        (2, "output_tokens", "1.5"),
        (4, "input_tokens", "lots"),
    ]
    assert stored.rejected == 2
    tokens = ledger.session.db.one("SELECT count(*), sum(input_tokens) FROM usage_events")
    assert tokens == (3, 3_000)
    again = ledger.costs.ingest_spans(documents)
    assert (again.added, again.rejected) == (0, 2)


def test_past_the_retries_or_with_every_span_bad_nothing_is_stored(ledger: Ledger) -> None:
    # Each load names the first bad span of each check: one more bad span than the loads
    # allowed is refused whole.
    bad = MAX_SPAN_RETRIES + 1
    spans = [_span(n, -1 if n <= bad else 1_000) for n in range(1, bad + 4)]
    with pytest.raises(IngestError):
        ledger.costs.ingest_spans(gen_ai_spans(from_json(_export(*spans))).documents)
    with pytest.raises(IngestError):
        ledger.costs.ingest_spans(gen_ai_spans(from_json(_export(_span(1, -1)))).documents)
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)
    fewer = spans[1:]  # one bad span fewer: the loads suffice
    stored = ledger.costs.ingest_spans(gen_ai_spans(from_json(_export(*fewer))).documents)
    assert (stored.added, len(stored.refused)) == (3, MAX_SPAN_RETRIES)


def _spans_of_a_year(count: int) -> list[dict[str, Any]]:
    """``count`` spans, one every 26 minutes through 2025 (a year of them), out of their
    order in time: the ledger keeps them in no particular order."""
    start = 1_735_689_600_000_000_000  # 2025-01-01T00:00:00Z
    spans = [_span(n) for n in range(count)]
    for n, span in enumerate(spans):
        span["startTimeUnixNano"] = str(start + n * 26 * 60 * 1_000_000_000 + 1_234)
    return spans[::2] + spans[1::2]


def test_a_span_sent_again_is_not_stored_again_among_a_year_of_spans(
    ledger: Ledger, tmp_path: Path
) -> None:
    """A span sent again is found among the stored calls that started within a day of the
    new spans (the look reads only those): after a year of others, in a batch of one month's
    or of the whole year's, as OTLP or in an OpenTelemetry file, its start written as
    nanoseconds or as text, none is stored again. The same ids two days from the stored
    span's start are looked for no more: another call."""
    year = _spans_of_a_year(20_000)
    assert ledger.costs.ingest_spans(year).added == 20_000
    a_month = [s for s in year if s["startTimeUnixNano"] < str(1_738_368_000_000_000_000)]
    assert 1_500 < len(a_month) < 2_000  # January's
    assert ledger.costs.ingest_spans(a_month).added == 0
    assert ledger.costs.ingest_spans([year[0], year[-1], year[9_999]]).added == 0
    file = tmp_path / "spans.json"
    file.write_bytes(_export(*year[100:200]))
    assert ledger.costs.ingest_usage(file, "otel").rows_added == 0
    nanos = {**_span(20_001), "startTimeUnixNano": "1764000000123456789"}  # .123457 rounded
    assert ledger.costs.ingest_spans([nanos]).added == 1
    as_text = {**_span(20_001), "startTime": "2025-11-24T16:00:00.123456789Z"}  # .123456
    del as_text["startTimeUnixNano"]
    assert ledger.costs.ingest_spans([as_text]).added == 0
    two_days = int(year[7]["startTimeUnixNano"]) + 2 * 86_400 * 1_000_000_000
    assert ledger.costs.ingest_spans([{**year[7], "startTimeUnixNano": str(two_days)}]).added == 1
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (20_002,)

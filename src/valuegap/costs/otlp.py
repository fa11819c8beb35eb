"""OTLP trace exports (``ExportTraceServiceRequest``, as protobuf or as OTLP/JSON) turned into
what ``ingest usage`` reads: one entry per GenAI span, a ``ReadSpan`` (what the inbox's drain
gives ``ingest_spans``) or the OTLP/JSON document of it (``gen_ai_spans``), read alike.

Both encodings are decoded into the protobuf message first (OTLP/JSON's hex ids made base64,
as protobuf's JSON form has bytes), so that one walk reads either. Each span is read on its
own, with its resource's attributes and its scope's name, so that the reader numbers a bad
span by its position and the span alone can be refused. Spans without a ``gen_ai.*``
attribute (their own or their resource's) are not usage: they are counted, not passed on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from valuegap.costs.usage import ReadSpan, is_gen_ai
from valuegap.errors import Problem, ValidationError
from valuegap.records import record

# OTLP/JSON's byte fields, written as hex (protobuf's JSON form would have base64).
_HEX_IDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_SCALARS = frozenset(("string_value", "int_value", "double_value", "bool_value"))


@record
class Spans:
    """An export's GenAI spans, each an OTLP/JSON document of one span, and how many spans it
    held in all."""

    documents: list[dict[str, Any]]
    total: int

    @property
    def ignored(self) -> int:
        """The spans that are not GenAI spans."""
        return self.total - len(self.documents)


def from_protobuf(body: bytes) -> ExportTraceServiceRequest:
    """The request a protobuf body holds, or ``ValidationError``."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise undecodable(f"is not a protobuf ExportTraceServiceRequest ({exc})") from None
    return request


def from_json(body: bytes) -> ExportTraceServiceRequest:
    """The request an OTLP/JSON body holds (lowerCamelCase or the proto's own field names;
    ids in hex; enums as integers; 64-bit integers as strings or numbers), or
    ``ValidationError``."""
    try:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        _base64_ids(document)
        request = ExportTraceServiceRequest()
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (ValueError, TypeError, RecursionError, json_format.ParseError) as exc:
        said = str(exc)[:200]
        raise undecodable(f"is not OTLP/JSON of an ExportTraceServiceRequest ({said})") from None
    return request


def undecodable(message: str) -> ValidationError:
    """A body refused for what it is, naming why."""
    return ValidationError("The request body cannot be decoded.", [Problem("body", message)])


def _base64_ids(document: Any) -> None:
    """Rewrite OTLP/JSON's hex ids (of spans and their links) as base64, in place."""
    if not isinstance(document, Mapping):
        return
    for resource_spans in _items(document, "resourceSpans", "resource_spans"):
        for scope_spans in _items(resource_spans, "scopeSpans", "scope_spans"):
            for span in _items(scope_spans, "spans"):
                _rewrite(span)
                for link in _items(span, "links"):
                    _rewrite(link)


def _items(parent: Any, *names: str) -> list[Any]:
    if not isinstance(parent, Mapping):
        return []
    found = next((parent[n] for n in names if n in parent), None)
    return found if isinstance(found, list) else []


def _rewrite(item: Any) -> None:
    if not isinstance(item, dict):
        return
    for name in _HEX_IDS:
        value = item.get(name)
        if isinstance(value, str):
            try:
                item[name] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise ValueError(f"{name} {value[:40]!r} is not hex") from None


def gen_ai_spans(request: ExportTraceServiceRequest) -> Spans:
    """The request's GenAI spans, each as the document ``ingest usage`` reads."""
    read, total = read_spans(request)
    return Spans([_document(span) for span in read], total)


def read_spans(request: ExportTraceServiceRequest) -> tuple[list[ReadSpan], int]:
    """The request's GenAI spans as read (``ingest_spans`` reads them as their documents,
    without making them), and how many spans it held in all."""
    found: list[ReadSpan] = []
    total = 0
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        resource_gen_ai = is_gen_ai(resource)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                total += 1
                attributes = _attributes(span.attributes)
                if not resource_gen_ai and not is_gen_ai(attributes):
                    continue
                trace_id, span_id = span.trace_id, span.span_id
                found.append(
                    ReadSpan(
                        resource,
                        scope,
                        attributes,
                        trace_id.hex() if trace_id else None,
                        span_id.hex() if span_id else None,
                        span.start_time_unix_nano,
                    )
                )
    return found, total


def _document(span: ReadSpan) -> dict[str, Any]:
    """The OTLP/JSON document of one span, with its resource's attributes and its scope's
    name (attributes flat)."""
    found: dict[str, Any] = {"attributes": span.attributes}
    if span.trace_id:
        found["traceId"] = span.trace_id
    if span.span_id:
        found["spanId"] = span.span_id
    if span.start:
        found["startTimeUnixNano"] = span.start
    resource_spans_of_one = {
        "resource": {"attributes": span.resource},
        "scopeSpans": [{"scope": {"name": span.scope}, "spans": [found]}],
    }
    return {"resourceSpans": [resource_spans_of_one]}


def counted(request: ExportTraceServiceRequest) -> tuple[int, int]:
    """How many GenAI spans the request holds (as ``gen_ai_spans`` finds them), and how many
    spans in all; without making their documents."""
    gen_ai = total = 0
    for resource_spans in request.resource_spans:
        resource = _has_gen_ai(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                total += 1
                gen_ai += resource or _has_gen_ai(span.attributes)
    return gen_ai, total


def _has_gen_ai(attributes: Any) -> bool:
    return any(
        a.key.startswith("gen_ai.") and a.value.WhichOneof("value") in _SCALARS for a in attributes
    )


def _attributes(attributes: Any) -> dict[str, Any]:
    """Attributes with a scalar value, as a flat mapping (the usage reader keeps no other)."""
    found: dict[str, Any] = {}
    for attribute in attributes:
        item: KeyValue = attribute
        value = item.value  # each access makes a new wrapper: once (this runs for every span)
        kind = value.WhichOneof("value")
        if kind in _SCALARS:
            found[item.key] = getattr(value, kind)
    return found


def response(*, protobuf: bool) -> bytes:
    """The ``ExportTraceServiceResponse`` in the request's encoding: empty, as every GenAI
    span was received (a bad value is refused when the span is stored, after the answer)."""
    answer = ExportTraceServiceResponse()
    if protobuf:
        return bytes(answer.SerializeToString())
    return json.dumps(json_format.MessageToDict(answer)).encode()

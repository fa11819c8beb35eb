"""LLM usage events: what an event holds, and how each source spells it.

Sources: OpenTelemetry GenAI spans (OTLP JSON as an exporter writes it, or JSON lines of spans),
LiteLLM spend logs, and any CSV or Parquet file with a column mapping. Every source becomes the
same fields. Cached and reasoning tokens are subsets of input and output tokens, as in the
OpenTelemetry conventions; a source that counts them apart says so in the setting token_counts.

Only inference calls are usage (``chat``, ``text_completion``, ``generate_content``,
``embeddings``, or a span that names no operation). Agent, workflow and tool spans
(``invoke_agent``, ``execute_tool``, ...) are kept for attribution but never priced or counted,
whatever usage they carry: an agent's span often holds the sum of its model calls' usage, and
counting it too would count a trace twice.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterator, Mapping
from dataclasses import field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, NamedTuple

from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.inputs import MAX_JSON_DOCUMENT, file_not_utf8, file_problem
from valuegap.model.pseudonyms import PersonData
from valuegap.model.usage import FIELDS, TokenCounts
from valuegap.records import record
from valuegap.sources import Input

# OpenTelemetry GenAI attributes, current name first, then the deprecated ones.
OTEL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "provider": ("gen_ai.provider.name", "gen_ai.system"),
    "request_model": ("gen_ai.request.model",),
    "response_model": ("gen_ai.response.model",),
    "operation": ("gen_ai.operation.name",),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.input_tokens.cached",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.input_tokens.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.output_tokens.reasoning",
    ),
    "cost": ("gen_ai.usage.cost.amount", "gen_ai.usage.cost", "valuegap.cost"),
    "currency": ("gen_ai.usage.cost.currency", "valuegap.cost.currency"),
    "api_key": ("valuegap.api_key", "api_key.alias"),
    "team": ("valuegap.team", "team"),
    "initiative": ("valuegap.initiative", "initiative"),
    "user": ("enduser.id", "user.id", "gen_ai.user.id", "valuegap.user"),
}  # fmt: skip
# Each attribute's field, and its rank among the field's names (0: the current name).
_FIELD_OF = {
    name: (field, rank)
    for field, names in OTEL_ATTRIBUTES.items()
    for rank, name in enumerate(names)
}
_UNRANKED = len(_FIELD_OF)
_named_gen_ai = operator.methodcaller("startswith", "gen_ai.")
# GenAI attributes kept as tags: who acted and in which conversation, for attribution.
GEN_AI_TAGS = ("gen_ai.agent.id", "gen_ai.agent.name", "gen_ai.conversation.id", "gen_ai.tool.name")


@record
class UsageReading:
    """What reading OpenTelemetry spans needs besides the file: how to treat person data, and
    how the source counts tokens (by instrumentation scope name, else ``default_counts``)."""

    person: PersonData
    token_counts: Mapping[str, TokenCounts] = field(default_factory=dict)
    default_counts: TokenCounts = field(default_factory=TokenCounts)


class ReadSpan(NamedTuple):
    """A GenAI span as read from an OTLP export (``costs.otlp.read_spans``), without the
    OTLP/JSON document of it: its resource's attributes (the same mapping for each of the
    resource's spans), its scope's name, its own scalar attributes, its ids in hex (None:
    none), and its start in nanoseconds since the epoch (0: none). Read as its document is."""

    resource: Mapping[str, Any]
    scope: str
    attributes: Mapping[str, Any]
    trace_id: str | None
    span_id: str | None
    start: int


def otel_events(source: Input, reading: UsageReading) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, event) for each GenAI span in an OTLP JSON file or a JSON-lines file of spans,
    or in an in-memory document.

    Lines are read one at a time; a file that is one pretty-printed document is read whole.
    ``row`` is the line (or, for a single document, the span's position; for a list in
    memory, the item's). Spans without GenAI attributes are skipped. Attributes that are not
    GenAI usage become tags; the values of those that identify a person are pseudonymised
    first.
    """
    file = source.name
    if source.path is None:
        items = source.document if isinstance(source.document, list | tuple) else None
        if items is None:
            yield from enumerate(_checked(source.document, file, 1, reading), start=1)
        for number, item in enumerate(items or (), start=1):
            if isinstance(item, ReadSpan):
                if (event := _read_span_event(item, file, number, reading)) is not None:
                    yield number, event
                continue
            for event in _checked(item, file, number, reading):
                yield number, event
        return
    path = source.path
    if (problem := file_problem(path, file)) is not None:
        raise IngestError(file, [problem])
    try:
        yield from _otel_events(source, reading)
    except UnicodeDecodeError as exc:
        with path.open("rb") as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
        said = "is a gzip file: unzip it first (OpenTelemetry files are read as JSON text)"
        problem = Problem(file, said) if gzipped else file_not_utf8(path, file)
        raise IngestError(file, [problem]) from exc


def _otel_events(source: Input, reading: UsageReading) -> Iterator[tuple[int, dict[str, Any]]]:
    file, path = source.name, source.file
    with path.open(encoding="utf-8-sig") as handle:
        first = handle.readline(MAX_JSON_DOCUMENT + 1)
        try:
            json.loads(first) if first.strip() else None
            line_by_line = True
        except json.JSONDecodeError:
            line_by_line = False
        except RecursionError:
            line_by_line = True  # a line too deep to read: refused, naming it, below
        handle.seek(0)
        if not line_by_line:
            if (size := path.stat().st_size) > MAX_JSON_DOCUMENT:
                message = (
                    f"is one JSON document of {size:,} bytes, more than the limit of "
                    f"{MAX_JSON_DOCUMENT:,} read whole: write it as JSON lines (a document a line)"
                )
                raise IngestError(file, [Problem(file, message)])
            try:
                document = json.load(handle)
            except json.JSONDecodeError as exc:
                raise _not_json(file, exc.lineno, None, exc) from exc
            for n, event in enumerate(_checked(document, file, 1, reading), start=1):
                yield n, event
            return
        lines = iter(partial(handle.readline, MAX_JSON_DOCUMENT + 1), "")
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_JSON_DOCUMENT:
                message = f"is longer than the limit of {MAX_JSON_DOCUMENT:,} characters a line"
                raise IngestError(file, [IngestError.at(file, number, "(json)", None, message)])
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _not_json(file, number, line[:80], exc) from exc
            except RecursionError:
                message = "is nested too deeply to be a span document"
                problem = IngestError.at(file, number, "(json)", None, message)
                raise IngestError(file, [problem]) from None
            for event in _checked(document, file, number, reading):
                yield number, event


def _checked(
    document: Any, file: str, line: int, reading: UsageReading
) -> Iterator[dict[str, Any]]:
    """The spans of one document; one that is not shaped as OTLP JSON is refused naming its
    line (an attribute without a key, a string where an object belongs, a timestamp out of
    range, nesting too deep to read)."""
    try:
        yield from _events(document, {}, None, reading)
    except _UNREADABLE as exc:
        raise _not_a_span(file, line, exc) from None


_UNREADABLE = (KeyError, AttributeError, TypeError, ValueError, OverflowError, RecursionError)


def _not_a_span(file: str, line: int, exc: Exception) -> IngestError:
    what = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
    message = f"is not an OpenTelemetry span document as OTLP JSON writes it ({what})"
    return IngestError(file, [IngestError.at(file, line, "(otlp)", None, message)])


def _not_json(file: str, line: int, text: str | None, exc: json.JSONDecodeError) -> IngestError:
    return IngestError(file, [IngestError.at(file, line, "(json)", text,
                                             f"is not valid JSON: {exc.msg}")])  # fmt: skip


def _events(
    document: Any, resource: Mapping[str, Any], scope: str | None, reading: UsageReading
) -> Iterator[dict[str, Any]]:
    if isinstance(document, list):
        for item in document:
            yield from _events(item, resource, scope, reading)
        return
    if not isinstance(document, dict):
        return
    if "resourceSpans" in document:
        for resource_spans in document["resourceSpans"] or []:
            attrs = _attributes((resource_spans.get("resource") or {}).get("attributes"))
            for scope_spans in resource_spans.get("scopeSpans") or []:
                name = (scope_spans.get("scope") or {}).get("name")
                for span in scope_spans.get("spans") or []:
                    if (event := _span_event(span, attrs, name, reading)) is not None:
                        yield event
        return
    if (event := _span_event(document, resource, scope, reading)) is not None:
        yield event


def _span_event(
    span: Mapping[str, Any],
    resource: Mapping[str, Any],
    scope: str | None,
    reading: UsageReading,
) -> dict[str, Any] | None:
    attributes = {**resource, **_attributes(span.get("attributes"))}
    if not is_gen_ai(attributes):
        return None
    trace, span_id = span.get("traceId") or span.get("trace_id"), span.get("spanId")
    span_id = span_id or span.get("span_id")
    event_id = f"{trace}:{span_id}" if trace and span_id else None
    return _event(attributes, event_id, _span_time(span), scope, reading)


def _read_span_event(
    span: ReadSpan, file: str, number: int, reading: UsageReading
) -> dict[str, Any] | None:
    """The event of a span read from an export, as ``_span_event`` makes it of the span's
    document (a value that cannot be read is refused naming its position, as there)."""
    resource, scope, attributes, trace, span_id, start = span
    attributes = {**resource, **attributes} if resource else attributes
    if not is_gen_ai(attributes):
        return None
    event_id = f"{trace}:{span_id}" if trace and span_id else None
    try:
        return _event(attributes, event_id, _nanos_time(start) if start else None, scope, reading)
    except _UNREADABLE as exc:
        raise _not_a_span(file, number, exc) from None


def _event(
    attrs: Mapping[str, Any],
    event_id: str | None,
    timestamp: str | None,
    scope: str | None,
    reading: UsageReading,
) -> dict[str, Any]:
    """A GenAI span's event from its attributes (its resource's, then its own), its id and
    its start time."""
    # One pass over the attributes (this runs for every span): each field takes the value of
    # its best-ranked name that has one; the other attributes become tags.
    event: dict[str, Any] = dict.fromkeys(OTEL_ATTRIBUTES)
    ranks: dict[str, int] = {}
    tags: dict[str, str] = {}
    for k, v in attrs.items():
        if (found := _FIELD_OF.get(k)) is not None:
            field, rank = found
            if v is not None and rank < ranks.get(field, _UNRANKED):
                event[field], ranks[field] = v, rank
        elif not k.startswith("gen_ai.") or k in GEN_AI_TAGS:
            tags[k] = reading.person.pseudonymise(str(v)) if reading.person.is_person(k) else str(v)
    event["event_id"] = event_id
    event["timestamp"] = timestamp
    event["tags"] = tags
    counts = reading.token_counts.get(scope or "", reading.default_counts)
    if counts.cache == "separate":
        _include(event, "input_tokens", ("cache_read_tokens", "cache_write_tokens"))
    if counts.reasoning == "separate":
        _include(event, "output_tokens", ("reasoning_tokens",))
    return event


def is_gen_ai(attributes: Mapping[str, Any]) -> bool:
    """Whether a span (its attributes with its resource's) is a GenAI span: one that has a
    ``gen_ai.*`` attribute. Other spans are not usage."""
    return any(map(_named_gen_ai, attributes))


def _include(event: dict[str, Any], total: str, parts: tuple[str, ...]) -> None:
    """Count ``parts`` into ``total``, which the source counted apart (whole numbers only:
    anything else is left for the checks to name)."""
    values = [event.get(name) for name in (total, *parts)]
    if all(v is None or _whole(v) for v in values) and any(v is not None for v in values[1:]):
        event[total] = sum(int(v) for v in values if v is not None)


def _whole(value: Any) -> bool:
    try:
        return int(str(value)) >= 0
    except ValueError:
        return False


def _attributes(raw: Any) -> dict[str, Any]:
    """OTLP JSON's [{key, value: {stringValue: …}}] list, or an already-flat mapping."""
    if isinstance(raw, Mapping):
        return dict(raw)
    found: dict[str, Any] = {}
    for item in raw or []:
        value = item.get("value") or {}
        for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
            if kind in value:
                found[item["key"]] = value[kind]
                break
    return found


def _span_time(span: Mapping[str, Any]) -> str | None:
    nanos = span.get("startTimeUnixNano") or span.get("start_time_unix_nano")
    if nanos not in (None, ""):
        try:
            whole = int(nanos)
        except (TypeError, ValueError):
            return str(nanos)
        return _nanos_time(whole)
    value = span.get("startTime") or span.get("start_time") or span.get("timestamp")
    return None if value is None else str(value)


def _nanos_time(nanos: int) -> str:
    """An instant in nanoseconds since the epoch (0 or more), in ISO 8601: the text of
    ``datetime.fromtimestamp(nanos / 1e9, UTC).isoformat()``, whose second is made once for
    the many spans that start in it (the microseconds rounded as ``fromtimestamp`` rounds
    them: half to even, from the same float)."""
    fraction, whole = math.modf(nanos / 1e9)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    second = _second(int(whole))
    return f"{second}.{micros:06d}+00:00" if micros else f"{second}+00:00"


@lru_cache(maxsize=1024)
def _second(seconds: int) -> str:
    """A second since the epoch, in ISO 8601 without its zone (UTC)."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()


# LiteLLM spend logs (the LiteLLM_SpendLogs export): field -> SQL over the staged columns.
LITELLM_COLUMNS: dict[str, str] = {
    "event_id": "request_id",
    "timestamp": "startTime",
    "provider": "custom_llm_provider",
    "request_model": "model",
    "input_tokens": "prompt_tokens",
    "output_tokens": "completion_tokens",
    "cost": "spend",
    "api_key": "api_key",
    "team": "team_id",
    "user": "user",
}


def parse_mapping(text: str | None) -> dict[str, str]:
    """``timestamp=ts,model=model_name,tag.team=squad`` -> {field: column}."""
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        field, sep, column = part.partition("=")
        field = "request_model" if field.strip() == "model" else field.strip()
        if not sep or not column.strip():
            problems.append(Problem("mapping", "entries are FIELD=COLUMN", part))
        elif field not in FIELDS and not field.startswith("tag."):
            allowed = ", ".join(["model", *FIELDS, "tag.<key>"])
            problems.append(Problem("mapping", f"unknown field; the fields are {allowed}", field))
        else:
            mapping[field] = column.strip()
    if problems:
        raise ValidationError("The column mapping was not understood.", problems)
    return mapping

"""OpenTelemetry files that are not what they should be are refused with an error that names
the file and the line, never a traceback, and nothing is stored."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import TextIO

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError

SPAN = {
    "traceId": "a" * 32,
    "spanId": "b" * 16,
    "startTimeUnixNano": "1772355600000000000",
    "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                   "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1},
}  # fmt: skip


def _lines(*documents: object) -> bytes:
    return b"".join(json.dumps(d).encode() + b"\n" for d in documents)


CASES = {
    "an attribute without a key": (
        _lines(SPAN, {**SPAN, "attributes": [{"value": {"stringValue": "x"}}]}),
        "row 2, column '(otlp)': is not an OpenTelemetry span document as OTLP JSON writes "
        "it (missing 'key')",
    ),
    "a string where an object belongs": (
        _lines({"resourceSpans": ["oops"]}),
        "row 1, column '(otlp)': is not an OpenTelemetry span document",
    ),
    "a timestamp out of range": (
        _lines({**SPAN, "startTimeUnixNano": "99999999999999999999999"}),
        "row 1, column '(otlp)': is not an OpenTelemetry span document",
    ),
    "nesting too deep": (
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "row 1, column '(json)': is nested too deeply to be a span document",
    ),
    "Latin-1 text": (b'{"note": "caf\xe9"}\n', "is not UTF-8 text"),
    "a gzip file": (gzip.compress(_lines(SPAN)), "is a gzip file: unzip it first"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_span_file_is_refused_naming_it(
    ledger: Ledger, tmp_path: Path, case: str
) -> None:
    content, said = CASES[case]
    path = tmp_path / "spans.jsonl"
    path.write_bytes(content)
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    assert said in str(refused.value)
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)


def test_a_byte_order_mark_is_read_as_in_csv(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _lines(SPAN))
    assert ledger.costs.ingest_usage(path, "otel").rows_added == 1


def test_latin1_deep_in_a_span_file_is_named_by_line_and_byte(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "spans.jsonl"
    data = _lines(SPAN, SPAN) + b'{"note": "caf\xe9"}\n'
    path.write_bytes(data)
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    [problem] = refused.value.problems
    offset = data.index(b"\xe9")
    assert problem.where == f"{path}, line 3, byte offset {offset:,}"
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)


def _pad(handle: TextIO, character: str, count: int) -> None:
    """Write ``count`` of ``character`` a megabyte at a time."""
    for start in range(0, count, 1_048_576):
        handle.write(character * min(1_048_576, count - start))


def test_one_json_document_over_100_mib_is_refused_before_it_is_read(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "spans.json"
    document = json.dumps({"resourceSpans": []}, indent=2)  # pretty-printed: read whole
    with path.open("w") as handle:
        handle.write(document[:-1])
        _pad(handle, " ", 104_857_600 + 1 - len(document))
        handle.write("}")
    assert path.stat().st_size == 104_857_601
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    [problem] = refused.value.problems
    assert str(problem) == (
        f"{path}: is one JSON document of 104,857,601 bytes, more than the limit of "
        "104,857,600 read whole: write it as JSON lines (a document a line)"
    )


def test_a_json_line_over_100_mib_is_refused_naming_it(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    with path.open("w") as handle:
        handle.write(json.dumps(SPAN) + '\n{"pad": "')
        _pad(handle, "x", 104_857_600)
        handle.write('"}\n')
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    [problem] = refused.value.problems
    assert str(problem) == (
        f"{path}, row 2, column '(json)': is longer than the limit of 104,857,600 characters a line"
    )
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)

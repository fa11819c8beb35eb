"""Every ingest reads a path, bytes or a binary stream (and OpenTelemetry usage an OTLP/JSON
document in memory) through the same checks: the same data gives the same rows whatever it
came as, the second time adds nothing, and a refusal names the source by the name given."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError, ValidationError
from valuegap.sources import Source

DATA = Path(__file__).parent.parent / "data"
USAGE_MAPPING = {"timestamp": "ts", "request_model": "model_name", "provider": "vendor",
                 "input_tokens": "in_tok", "output_tokens": "out_tok"}  # fmt: skip

Ingest = Callable[[Ledger, Source, str | None], int]  # (ledger, source, name) -> rows added


@dataclass(frozen=True)
class Reader:
    ingest: Ingest
    file: str  # a file of tests/data
    rows: int  # the rows it holds, counted by hand
    facts: str  # the table they land in
    stored: int | None = None  # its rows there, if not one a row


def _measures(kind: str) -> Ingest:
    return lambda ledger, source, name: (
        ledger.outcomes.ingest_measures(
            kind,  # type: ignore[arg-type]
            source,
            source_name=name,
        ).rows_added
    )


READERS = {
    "focus": Reader(
        lambda ledger, source, name: ledger.costs.ingest_focus([source], [name])[0].rows_added,
        "focus-1.2-minimal.csv",
        5,
        "focus_lines",
    ),
    "usage otel": Reader(
        lambda ledger, source, name: (
            ledger.costs.ingest_usage(source, "otel", source_name=name).rows_added
        ),
        "otel-genai.jsonl",
        3,  # the http span of the first line has no GenAI attribute
        "usage_events",
    ),
    "usage csv": Reader(
        lambda ledger, source, name: (
            ledger.costs.ingest_usage(source, "csv", USAGE_MAPPING, source_name=name).rows_added
        ),
        "usage-generic.csv",
        2,
        "usage_events",
    ),
    "litellm": Reader(
        lambda ledger, source, name: (
            ledger.costs.ingest_usage(source, "litellm", source_name=name).rows_added
        ),
        "litellm-spend.csv",
        2,
        "usage_events",
    ),
    "manual costs": Reader(
        lambda ledger, source, name: ledger.costs.ingest_costs(source, source_name=name).rows_added,
        "manual-costs.csv",
        3,
        "manual_costs",
        6,  # a row a month: January to March, January, January and February
    ),
    "rates": Reader(
        lambda ledger, source, name: ledger.costs.ingest_rates(source, source_name=name).rows_added,
        "rates.csv",
        2,
        "currency_rates",
    ),
}
MEASURES = {
    "observations": (
        b"metric,period_start,period_end,group,phase,n,mean,sd\n"
        b"loc-qa-hours,2025-01-01,2025-04-01,all,before,12,40,4\n"
        b"loc-qa-hours,2025-04-01,2025-07-01,all,after,12,31,4\n"
    ),
    "outcomes": (
        b"initiative,period_start,period_end,count\nrefund-agent,2025-01-01,2025-02-01,120\n"
    ),
}


def _facts(ledger: Ledger, table: str) -> list[str]:
    """The rows of a table of facts, but a person's pseudonyms (each ledger has its key)."""
    mine = "EXCLUDE (user_pseudonym, tags)" if table == "usage_events" else ""
    rows = ledger.session.db.all(f"SELECT * {mine} FROM {table}")
    return sorted(repr(sorted(row.items())) for row in rows)


@pytest.fixture
def other(tmp_path: Path, example_portfolio: Path) -> Ledger:
    """A second ledger with the same initiatives."""
    from tests.conftest import SteppingClock

    ledger = Ledger.init(tmp_path / "other.duckdb", actor="alice", clock=SteppingClock())
    ledger.portfolio.apply_file(example_portfolio)
    return ledger


@pytest.mark.parametrize("kind", READERS)
def test_each_reader_stores_the_same_rows_from_a_stream_as_from_its_path(
    ledger: Ledger, other: Ledger, example_portfolio: Path, kind: str
) -> None:
    reader = READERS[kind]
    path = DATA / reader.file
    ledger.portfolio.apply_file(example_portfolio)
    stream = io.BytesIO(path.read_bytes())
    assert reader.ingest(ledger, stream, reader.file) == reader.rows
    assert reader.ingest(ledger, path, None) == 0  # the same data, from its path: nothing new
    assert reader.ingest(ledger, path.read_bytes(), None) == 0  # and as bytes
    with other:
        assert reader.ingest(other, path, None) == reader.rows
        assert _facts(other, reader.facts) == _facts(ledger, reader.facts)
    count = ledger.session.db.one(f"SELECT count(*) FROM {reader.facts}")
    assert count == (reader.stored or reader.rows,)


@pytest.mark.parametrize("kind", MEASURES)
def test_measured_data_from_bytes_is_stored_once(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path, kind: str
) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    data = MEASURES[kind]
    expected = data.count(b"\n") - 1
    assert (
        ledger.outcomes.ingest_measures(kind, data, source_name=f"{kind}.csv").rows_added
        == expected
    )  # type: ignore[arg-type]
    (tmp_path / "m.csv").write_bytes(data)
    assert ledger.outcomes.ingest_measures(kind, tmp_path / "m.csv").rows_added == 0  # type: ignore[arg-type]


def test_a_focus_export_from_a_stream_totals_as_its_file(ledger: Ledger) -> None:
    with (DATA / "focus-1.2-minimal.csv").open("rb") as stream:
        [result] = ledger.costs.ingest_focus([stream])
    assert result.file == str(DATA / "focus-1.2-minimal.csv")  # an open file's own name
    [total] = ledger.costs.cost_report([])
    # EffectiveCost of the five lines: 1100.25 + 300.00 + 45.10 - 50.00 (a credit) + 12.34
    assert total.cost == Decimal("1407.69")


def test_a_gzip_stream_is_read_as_gzip_by_its_name_or_its_first_bytes(ledger: Ledger) -> None:
    data = gzip.compress((DATA / "rates.csv").read_bytes())
    assert ledger.costs.ingest_rates(io.BytesIO(data), source_name="rates.csv.gz").rows_added == 2
    assert ledger.costs.ingest_rates(data).rows_added == 0  # nameless: its first bytes say gzip


# An ExportTraceServiceRequest as OTLP/JSON writes it (ids in hex, 64-bit integers as strings).
OTLP_REQUEST = {
    "resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "support-bot"}},
            {"key": "valuegap.initiative", "value": {"stringValue": "refund-agent"}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"},
            "spans": [{
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": "b7ad6b7169203331",
                "name": "chat gpt-4o-mini",
                "kind": 3,
                "startTimeUnixNano": "1741000000000000000",
                "endTimeUnixNano": "1741000001500000000",
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1200"}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "340"}},
                ],
                "status": {},
            }],
        }],
    }],
}  # fmt: skip


def test_an_otlp_request_in_memory_is_stored_as_its_json_file(
    ledger: Ledger, other: Ledger, tmp_path: Path
) -> None:
    result = ledger.costs.ingest_usage(OTLP_REQUEST, "otel", source_name="POST /v1/traces")
    assert (result.file, result.rows_read, result.rows_added) == ("POST /v1/traces", 1, 1)
    assert ledger.costs.ingest_usage([OTLP_REQUEST], "otel").rows_added == 0  # a list of requests
    span = OTLP_REQUEST["resourceSpans"][0]["scopeSpans"][0]["spans"][0]  # type: ignore[index]
    assert ledger.costs.ingest_usage([span], "otel").rows_added == 0  # a list of span dicts
    row = ledger.session.db.one(
        "SELECT event_key, ts, input_tokens, output_tokens, initiative FROM usage_events"
    )
    assert row is not None
    assert row[0] == "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331"
    assert f"{row[1]:%Y-%m-%d %H:%M:%S}" == "2025-03-03 11:06:40"  # 1,741,000,000 s after 1970
    assert row[2:] == (1200, 340, "refund-agent")  # from the resource of the first request
    path = tmp_path / "request.json"
    path.write_text(json.dumps(OTLP_REQUEST, indent=2))
    with other:
        assert other.costs.ingest_usage(path, "otel").rows_added == 1
        stored = other.session.db.one("SELECT initiative FROM usage_events")
    assert stored == ("refund-agent",)


def test_a_document_is_read_only_as_opentelemetry_usage(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as refused:
        ledger.costs.ingest_usage([{"ts": "2025-03-01"}], "csv", source_name="rows")
    assert "source: is an in-memory document, which only OpenTelemetry usage is read from" in str(
        refused.value
    )
    with pytest.raises(ValidationError) as refused:
        ledger.costs.ingest_rates(io.StringIO("valid_from,from_currency,to_currency,rate\n"))
    assert "is a text stream: open it in binary mode ('rb'), or give bytes" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        ledger.costs.ingest_usage(42, "otel")  # type: ignore[arg-type]
    assert (
        "source: is of type int: give a path, bytes or a binary stream, or an OpenTelemetry "
        in (str(refused.value))
    )


HOSTILE = {
    "Latin-1 text": (
        b"valid_from,from_currency,to_currency,rate\n2025-03-01,GBP,USD,caf\xe9\n",
        "upload.csv, line 2, byte offset 64",  # 42 bytes of header, then 22,
    ),
    "gzip without .gz in its name": (
        gzip.compress(b"valid_from,from_currency,to_currency,rate\n"),
        "upload.csv: is gzip-compressed: give it a name that ends in .gz",
    ),
    "a truncated gzip file": (
        gzip.compress((DATA / "rates.csv").read_bytes() * 50)[:-30],
        "upload.csv.gz: is a damaged or truncated gzip file",
    ),
    "a wrong number of values": (
        b"valid_from,from_currency,to_currency,rate\n2025-03-01,GBP,USD,1.2,9\n",
        "upload.csv, row 1, column '(row)': has 5 values, but the header has 4 columns",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_bytes_in_a_stream_are_refused_as_in_a_file_naming_the_source(
    ledger: Ledger, tmp_path: Path, case: str
) -> None:
    data, said = HOSTILE[case]
    name = "upload.csv.gz" if "truncated" in case else "upload.csv"
    with pytest.raises(IngestError) as from_stream:
        ledger.costs.ingest_rates(io.BytesIO(data), source_name=name)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as from_file:
        ledger.costs.ingest_rates(path)
    assert said in str(from_stream.value)
    assert from_stream.value.file == name
    assert str(from_file.value) == str(from_stream.value).replace(name, str(path))
    assert "valuegap-" not in str(from_stream.value)  # no trace of the private copy
    assert ledger.session.db.one("SELECT count(*) FROM currency_rates") == (0,)


def test_a_hostile_span_stream_names_its_line_as_a_file_does(ledger: Ledger) -> None:
    data = b'{"resourceSpans": []}\n{"note": "caf\xe9"}\n'
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(io.BytesIO(data), "otel", source_name="spans.jsonl")
    [problem] = refused.value.problems
    assert problem.where == "spans.jsonl, line 2, byte offset 35"  # 22 bytes, then 13

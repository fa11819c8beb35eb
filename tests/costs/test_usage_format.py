"""A usage file's format told from its content: OpenTelemetry spans (JSON), a LiteLLM spend
log (its columns), or a CSV or Parquet file of the usage fields."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from valuegap import Ledger
from valuegap.costs.usage_format import usage_format
from valuegap.errors import IngestError, ValidationError
from valuegap.sources import Input

DATA = Path(__file__).parent.parent / "data"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
GENERIC = {"timestamp": "ts", "request_model": "model_name"}


def _format(path: Path, mapping: dict[str, str] | None = None) -> str:
    return usage_format(Input(str(path), path), mapping)


def _parquet(csv: Path, tmp_path: Path) -> Path:
    path = tmp_path / (csv.stem + ".parquet")
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) TO '{path}'")
    return path


def test_spans_are_opentelemetry(tmp_path: Path) -> None:
    assert _format(DATA / "otel-genai.jsonl") == "otel"  # OTLP JSON, a document a line
    assert _format(EXAMPLES / "spans.jsonl") == "otel"  # spans, one a line
    pretty = tmp_path / "export.json"
    pretty.write_text('\n  {"resourceSpans": []}\n')
    assert _format(pretty) == "otel"
    assert usage_format(Input("(document)", document={"resourceSpans": []})) == "otel"


def test_a_spend_log_is_litellm_as_csv_gzip_or_parquet(tmp_path: Path) -> None:
    spend = DATA / "litellm-spend.csv"
    assert _format(spend) == "litellm"
    assert _format(EXAMPLES / "litellm-spend.csv") == "litellm"
    zipped = tmp_path / "spend.csv.gz"
    zipped.write_bytes(gzip.compress(spend.read_bytes()))
    assert _format(zipped) == "litellm"
    assert _format(_parquet(spend, tmp_path)) == "litellm"


def test_the_usage_fields_are_csv_named_as_they_are_or_mapped(tmp_path: Path) -> None:
    named = tmp_path / "usage.csv"
    named.write_text("timestamp,model,input_tokens\n2025-03-01T10:00:00Z,gpt-4o,10\n")
    assert _format(named) == "csv"
    assert _format(DATA / "usage-generic.csv", GENERIC) == "csv"
    assert _format(_parquet(DATA / "usage-generic.csv", tmp_path), GENERIC) == "csv"


def test_a_file_of_no_known_format_is_refused_saying_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as unknown:
        _format(DATA / "usage-generic.csv")  # its columns need a mapping
    assert str(DATA / "usage-generic.csv") in unknown.value.summary
    [problem] = unknown.value.problems
    assert problem.where == "fmt"
    assert "otel, litellm or csv" in problem.message and "`mapping`" in problem.message
    both = tmp_path / "both.csv"
    both.write_text("request_id,startTime,model,spend,timestamp\n")
    with pytest.raises(ValidationError, match=r"both\.csv") as ambiguous:
        _format(both)
    assert "litellm or csv" in ambiguous.value.problems[0].message
    empty = tmp_path / "empty.csv"
    empty.touch()
    with pytest.raises(ValidationError, match=r"empty\.csv"):
        _format(empty)


def test_a_header_ended_by_a_carriage_return_is_read_and_one_csv_cannot_read_refused(
    tmp_path: Path,
) -> None:
    old_mac = tmp_path / "old-mac.csv"
    old_mac.write_bytes(b"timestamp,model,input_tokens\r2025-03-01T10:00:00Z,gpt-4o,10\r")
    assert _format(old_mac) == "csv"
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_bytes(b'ts,"model\rgpt-4o\n')  # a quote never closed
    with pytest.raises(ValidationError, match=r"unclosed\.csv"):
        _format(unclosed)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as missing:
        _format(tmp_path / "nope.jsonl")
    assert f"{tmp_path / 'nope.jsonl'}: no such file" in str(missing.value)


def test_an_ingest_and_a_removal_tell_the_format(ledger: Ledger) -> None:
    spend = DATA / "litellm-spend.csv"
    assert ledger.costs.ingest_usage(spend).rows_added == 2
    assert ledger.costs.ingest_usage(DATA / "otel-genai.jsonl").rows_added > 0
    removal = ledger.costs.removal.remove_costs("usage", file=spend, reason="a test file")
    assert len(removal.rows) == 2

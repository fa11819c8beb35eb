"""Which format a usage file is in, told from its content: OpenTelemetry spans are JSON; a
LiteLLM spend log has LiteLLM's columns; a CSV or Parquet file of usage has the usage fields'
columns (a timestamp and a model), named as the fields are or given by a column mapping. A file
that is none of these, or both of the last two, is refused: its format must then be said."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Collection, Mapping

from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.inputs import (
    MAX_LINE_BYTES,
    content_problem,
    file_not_utf8,
    file_problem,
    is_gzip_name,
)
from valuegap.model.usage import FIELDS, UsageFormat
from valuegap.sources import Input

# Columns that only a LiteLLM spend log has together (the LiteLLM_SpendLogs export).
LITELLM_SIGNATURE = ("request_id", "startTime", "model", "spend")
_MODELS = ("request_model", "response_model")


def usage_format(
    source: Input, mapping: Mapping[str, str] | None = None, field: str = "fmt"
) -> UsageFormat:
    """The format of ``source`` (read with the column ``mapping``, field -> column); a file
    whose format cannot be told is refused, naming ``field`` (the argument that says it)."""
    if source.path is None:
        return "otel"  # a document in memory
    path, file = source.path, source.name
    if (problem := file_problem(path, file)) is not None:
        raise IngestError(file, [problem])
    if path.suffix.lower() == ".parquet":
        columns = _parquet_columns(source)
    else:
        first = _first_line(source)
        if first.lstrip().startswith(("{", "[")):
            return "otel"
        try:  # a lone carriage return ends the header too
            columns = next(csv.reader(first.splitlines()[:1]), [])
        except csv.Error:
            columns = []  # not CSV: the format cannot be told, as refused below
    return _by_columns(file, columns, mapping or {}, field)


def _by_columns(
    file: str, columns: Collection[str], mapping: Mapping[str, str], field: str
) -> UsageFormat:
    spelled = {c.lower() for c in columns}
    litellm = all(c.lower() in spelled for c in LITELLM_SIGNATURE)
    fields = {f for f in FIELDS if f in spelled or mapping.get(f, "").lower() in spelled}
    if "model" in spelled:
        fields.add("request_model")  # a file's plain "model" column, as the reader takes it
    usage = "timestamp" in fields and any(f in fields for f in _MODELS)
    if litellm and not usage:
        return "litellm"
    if usage and not litellm:
        return "csv"
    summary = f"The format of {file} cannot be told from its content."
    if litellm:
        said = (
            "it has both a LiteLLM spend log's columns and the usage fields: say which it is, "
            "litellm or csv"
        )
    else:
        said = (
            f"it is not JSON (OpenTelemetry spans), nor has it a LiteLLM spend log's columns "
            f"({', '.join(LITELLM_SIGNATURE)}) or the usage fields' (timestamp and model): "
            "say its format, otel, litellm or csv, and name its columns with `mapping` "
            "(e.g. timestamp=ts,model=model_name)"
        )
    raise ValidationError(summary, [Problem(field, said)])


def _first_line(source: Input) -> str:
    """The first line of ``source`` that is not blank, as text."""
    path = source.file
    try:
        with (gzip.open if is_gzip_name(path) else open)(path, "rb") as handle:
            line = handle.readline(MAX_LINE_BYTES)
            while line and not line.strip():  # a pretty-printed document may start blank
                line = handle.readline(MAX_LINE_BYTES)
    except (EOFError, OSError, zlib.error):
        problem = content_problem(path, utf8=False, name=source.name)
        raise IngestError(
            source.name, [problem or Problem(source.name, "cannot be read")]
        ) from None
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(source.name, [file_not_utf8(path, source.name)]) from None


def _parquet_columns(source: Input) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(source.file).names)
    except (pa.ArrowException, OSError) as exc:
        problem = Problem(source.name, f"cannot be read as a Parquet file ({exc})")
        raise IngestError(source.name, [problem]) from None

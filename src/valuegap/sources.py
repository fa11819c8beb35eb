"""What an ingest reads: a ``Source`` (a path, bytes, a binary stream, or, for OpenTelemetry
usage, an in-memory document), made ready to read in one place, ``opened``.

A path is read where it is, so that DuckDB reads the user's file directly (the fast path).
Bytes and streams are copied once into a private temporary file, deleted when the ingest
ends, so that every reader, and every check of ``valuegap.inputs``, reads them exactly as it
reads a file; only their name differs: the name given for messages and the audit log. An
OpenTelemetry document (an OTLP/JSON ``ExportTraceServiceRequest`` as a dict, a list of them,
or a list of span dicts) is walked where it is, in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from valuegap.errors import Problem, ValidationError
from valuegap.records import record

# A document, a list of them, or spans read from OTLP exports (``costs.usage.ReadSpan``).
Document = Mapping[str, object] | Sequence[object]

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_CHUNK = 1 << 20


@record
class Input:
    """A source ready to read: ``name`` is what messages and the audit log call it; ``path``
    where its bytes are (the user's file, or a private copy of bytes or a stream); or, for an
    in-memory ``document``, no path, and the ``digest`` of the bytes it was read from if
    those are known (OTLP exports)."""

    name: str
    path: Path | None = None
    document: Document | None = None
    digest: str | None = None

    @property
    def file(self) -> Path:
        """Where the bytes are; only a document has none, and only OpenTelemetry reads one."""
        assert self.path is not None, "a document has no file"
        return self.path

    @property
    def base_name(self) -> str:
        """The name without its folders, as the audit log keeps it."""
        return Path(self.name).name or self.name

    def sha256(self) -> str:
        """The SHA-256 of the bytes as given (before any unzipping); of a document, its
        ``digest``, else of its JSON text with sorted keys."""
        if self.digest is not None:
            return self.digest
        digest = hashlib.sha256()
        if self.path is None:
            digest.update(json.dumps(self.document, sort_keys=True, default=str).encode())
            return digest.hexdigest()
        with self.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


# An ``Input`` is a source already made ready (kept as it is).
Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | Document | Input


@contextmanager
def opened(
    source: Source, source_name: str | None = None, *, documents: bool = False
) -> Iterator[Input]:
    """``source`` ready to read, for the time of the ``with`` block; ``source_name`` names it
    in messages (default: the path, a stream's own name, or "(bytes)"); ``documents``: an
    in-memory document is accepted (OpenTelemetry usage only)."""
    if isinstance(source, Input):
        yield source
    elif isinstance(source, (str, os.PathLike)):
        yield Input(source_name or os.fspath(source), Path(source))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        with _copied(io.BytesIO(source), source_name or "(bytes)") as copy:
            yield copy
    elif callable(getattr(source, "read", None)):
        stream: BinaryIO = source  # type: ignore[assignment]
        name = source_name or _stream_name(stream)
        with _copied(stream, name) as copy:
            yield copy
    elif documents and isinstance(source, (Mapping, list, tuple)):
        yield Input(source_name or "(document)", document=source)
    else:
        raise _refused(source, source_name, documents)


def _refused(source: object, source_name: str | None, documents: bool) -> ValidationError:
    """Why ``source`` is not something an ingest reads."""
    name = source_name or "source"
    kinds = "a path, bytes or a binary stream"
    if isinstance(source, (Mapping, list, tuple)):
        message = (
            f"is an in-memory document, which only OpenTelemetry usage is read from: give {kinds}"
        )
    else:
        also = ", or an OpenTelemetry document" if documents else ""
        message = f"is of type {type(source).__name__}: give {kinds}{also}"
    return ValidationError(f"{name} cannot be read.", [Problem("source", message)])


def _stream_name(stream: BinaryIO) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and name else "(stream)"


@contextmanager
def _copied(stream: BinaryIO, name: str) -> Iterator[Input]:
    """A private copy of ``stream`` in a temporary folder only this user can read, removed
    afterwards; the copy's suffix (the readers tell gzip and Parquet by it) is the name's,
    or, for a name without one, what the first bytes show."""
    first = stream.read(_CHUNK)
    if isinstance(first, str):
        message = "is a text stream: open it in binary mode ('rb'), or give bytes"
        raise ValidationError(f"{name} cannot be read.", [Problem("source", message)])
    folder = tempfile.mkdtemp(prefix="valuegap-")  # readable by its owner only
    try:
        path = Path(folder) / ("source" + _suffix(name, first))
        with path.open("wb") as copy:
            copy.write(first)
            shutil.copyfileobj(stream, copy, _CHUNK)
        yield Input(name, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _suffix(name: str, first: bytes) -> str:
    lowered = name.lower()
    for suffix in (".parquet", ".gz"):
        if lowered.endswith(suffix):
            return suffix
    if Path(lowered).suffix:
        return ""  # read as the file of that name would be (CSV, or JSON for OpenTelemetry)
    if first.startswith(_PARQUET_MAGIC):
        return ".parquet"
    return ".gz" if first.startswith(_GZIP_MAGIC) else ""

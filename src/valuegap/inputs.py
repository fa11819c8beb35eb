"""What a file a user gives must be before it is read: a file (not a directory), UTF-8 text
(with or without a byte order mark), within the size limits, and, if gzip-compressed, whole.

The limits are documented in docs/limits.md. Each check returns a ``Problem`` (or None), so
that each reader raises it as its own error: an ``IngestError`` for an ingested file, a
``ValidationError`` for a YAML file, a ``ConfigError`` for settings.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from valuegap.errors import Problem, ValidationError

MAX_LINE_BYTES = 1_048_576  # a line of a CSV file, and so any field in it
MAX_COLUMN_NAME = 1_024  # characters of a CSV column name
MAX_DOCUMENT_BYTES = 10_485_760  # a YAML or TOML file, which is read whole
MAX_NESTING = 64  # levels of lists and mappings in a YAML file
MAX_JSON_DOCUMENT = 104_857_600  # bytes of a JSON document read whole, or characters of a line

_CHUNK = 1_048_576
_GZIP_MAGIC = b"\x1f\x8b"
_SAVE_AS_UTF8 = "is not UTF-8 text: save the file as UTF-8 (with or without a byte order mark)"


def is_gzip_name(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def file_problem(path: Path, name: str | None = None) -> Problem | None:
    """Why ``path`` cannot be read as a file, if it cannot; ``name``: what to call it
    (default: its path)."""
    file = name or str(path)
    if path.is_dir():
        return Problem(file, "is a directory: give a file")
    if not path.exists():
        return Problem(file, "no such file")
    if not path.is_file():
        return Problem(file, "is not a regular file: give a file")
    return None


def content_problem(path: Path, *, utf8: bool, name: str | None = None) -> Problem | None:
    """Why the content of ``path`` cannot be read, if it cannot, from one pass over it: a gzip
    file must be whole (reading it to its end checks its length and checksum, which a
    truncated or damaged file fails; a reader that stops where the data stops would take a
    truncated file's rows for all of them), and with ``utf8`` its text must be UTF-8."""
    file = name or str(path)
    try:
        chunks = _chunks(path)
        if utf8:
            return utf8_problem(file, chunks)
        for _ in chunks:
            pass
    except (EOFError, OSError, zlib.error) as exc:
        if not is_gzip_name(path):
            return Problem(file, f"cannot be read: {exc}")
        return Problem(
            file,
            f"is a damaged or truncated gzip file ({exc}): compress or download it again",
        )
    return None


def _chunks(path: Path) -> Iterator[bytes]:
    with (gzip.open if is_gzip_name(path) else open)(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def utf8_problem(file: str, chunks: Iterable[bytes]) -> Problem | None:
    """Where the first byte that is not UTF-8 is in ``chunks`` (a file's bytes, uncompressed),
    by byte offset (from 0) and line (from 1); None if they are all UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the file before this chunk
    lines = 1
    for n, chunk in enumerate(chunks):
        if n == 0 and chunk.startswith(_GZIP_MAGIC):
            return Problem(file, "is gzip-compressed: give it a name that ends in .gz")
        pending = len(decoder.getstate()[0])  # bytes of a character begun in the last chunk
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            # exc.object is the pending bytes, then the chunk (pending bytes hold no newline)
            at = offset - pending + exc.start
            line = lines + exc.object[: exc.start].count(b"\n")
            bad = exc.object[exc.start : exc.start + 1]
            return Problem(f"{file}, line {line}, byte offset {at:,}", _SAVE_AS_UTF8, bad)
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return Problem(f"{file}, line {lines}, byte offset {offset - 1:,}", _SAVE_AS_UTF8)
    return None


def file_not_utf8(path: Path, name: str | None = None) -> Problem:
    """The problem of a file found not to be UTF-8 while it was read (by DuckDB, or a line of
    it): where its first byte that is not UTF-8 is."""
    file = name or str(path)
    return utf8_problem(file, _chunks(path)) or Problem(file, _SAVE_AS_UTF8)


def decoded(data: bytes, file: str) -> str:
    """``data`` as text, without a byte order mark; ``ValidationError`` if it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem = utf8_problem(file, [data]) or Problem(file, _SAVE_AS_UTF8)
        raise ValidationError(f"{file} cannot be read.", [problem]) from None


def read_text(path: Path, name: str | None = None) -> str:
    """The text of a file the user named, read whole (a YAML or TOML file); one that is not a
    file, is larger than ``MAX_DOCUMENT_BYTES`` or is not UTF-8 is a ``ValidationError``
    naming it ``name`` (default: its path)."""
    file = name or str(path)
    problem = file_problem(path, name)
    if problem is None and path.stat().st_size > MAX_DOCUMENT_BYTES:
        problem = Problem(
            file,
            f"is {path.stat().st_size:,} bytes, more than the limit of {MAX_DOCUMENT_BYTES:,} "
            "for a file read whole: split it",
        )
    if problem is not None:
        raise ValidationError(f"{file} cannot be read.", [problem])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(
            f"{file} cannot be read.", [Problem(file, exc.strerror or str(exc))]
        ) from exc
    return decoded(data, file)

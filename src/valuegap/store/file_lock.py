"""Getting the ledger file from DuckDB, which lets one process open a file to write, or many
processes open it to read only, never both. A process that finds the file held against it (a
reader while another process writes, a writer while any other process has the file) retries
for ``lock_timeout`` seconds, then says which process holds the file and what to do; a file
that ``valuegap serve`` holds is said so at once, with the server's URL.

Within one process, handles share DuckDB's one instance of the file: a read-only handle opened
while the process has the file open to write shares that instance (``Database`` refuses its
writes)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from valuegap.errors import ConfigError, LedgerBusy

FIRST_PAUSE, LONGEST_PAUSE = 0.05, 0.5  # seconds between two tries, doubling
NOTICE_AFTER = 1.0  # seconds: a wait shorter than this goes unmentioned
LONGEST_COMMAND = 200  # characters of the holder's command line shown
_PID = re.compile(r"\(PID (\d+)\)")
_PROGRAM = re.compile(r"held in (.+?) \(PID")


def connect(
    path: Path,
    *,
    read_only: bool,
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection to the file, once no other process holds it against this one. ``on_wait``
    hears once, in words, that the file is busy, when the wait passes ``NOTICE_AFTER``.
    Raises ``LedgerBusy`` after ``timeout`` seconds, and DuckDB's error if the file cannot be
    opened for any other reason."""
    started = time.monotonic()
    pause, told = FIRST_PAUSE, False
    while True:
        try:
            return _try(path, read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_held(exc):
                raise
            served = serving(path)
            if served is not None:
                raise LedgerBusy(_served(path, served)) from exc
            waited = time.monotonic() - started
            if waited >= timeout:
                raise LedgerBusy(_gave_up(path, str(exc), read_only, timeout)) from exc
            if on_wait is not None and not told and waited >= NOTICE_AFTER:
                on_wait(_waiting(path, str(exc), read_only, timeout))
                told = True
            time.sleep(min(pause, timeout - waited))
            pause = min(2 * pause, LONGEST_PAUSE)


def _try(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """One attempt; a reader shares this process's writing instance of the file, if any."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.ConnectionException as exc:  # this process has the file open the other way
        if read_only:
            return duckdb.connect(str(path))
        raise ConfigError(
            f"This process has {path} open read-only; close those ledgers before opening it "
            "to write."
        ) from exc


def _is_held(error: duckdb.IOException) -> bool:
    """Whether DuckDB could not open the file because another process holds its lock (and not,
    say, because a block of it cannot be read)."""
    message = str(error).lower()
    return "could not set lock" in message or "conflicting lock" in message


def _waiting(path: Path, error: str, read_only: bool, timeout: float) -> str:
    return (
        f"Waiting for {path}: {_holder(error)} {_holds(read_only)} (up to {timeout:g} s, "
        "lock_timeout)..."
    )


def server_note(path: Path) -> Path:
    """Where a server holding ``path`` says so (its URL and PID), while it runs."""
    return path.with_name(f"{path.name}.server.json")


@contextmanager
def announced(path: Path, url: str) -> Iterator[None]:
    """While the block runs, the ledger at ``path`` says that this process serves it at
    ``url``: a command on the file then says so at once, instead of waiting for it."""
    note = server_note(path)
    note.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    try:
        yield
    finally:
        note.unlink(missing_ok=True)


def serving(path: Path) -> dict[str, Any] | None:
    """The URL and PID of the live server that holds ``path``, if one does."""
    try:
        found = json.loads(server_note(path).read_text())
        os.kill(int(found["pid"]), 0)  # is it still running?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _served(path: Path, server: dict[str, Any]) -> str:
    return (
        f"{path} is held by valuegap serve at {server.get('url')} (PID {server.get('pid')}): "
        "a server keeps its ledger open. Use its dashboard or its API "
        f"({server.get('url')}/api/v1), or stop the server and run the command again."
    )


def _gave_up(path: Path, error: str, read_only: bool, timeout: float) -> str:
    rule = (
        "A process reads a ledger only while no process writes to it."
        if read_only
        else "A process writes to a ledger only while no other process has it open."
    )
    return (
        f"{path} is busy: {_holder(error)} {_holds(read_only)}, still after {timeout:g} s "
        f"(lock_timeout). {rule} Run the command again once that process has finished, or "
        "wait longer: set lock_timeout (VALUEGAP_LOCK_TIMEOUT, in seconds)."
    )


def _holds(read_only: bool) -> str:
    # A reader is kept out only by a writer; a writer by a reader or a writer.
    return "is writing to it" if read_only else "has it open"


def _holder(error: str) -> str:
    """The process DuckDB names in its lock error, by PID and command line where known."""
    pid = _PID.search(error)
    if pid is None:
        return "another process"
    program = _PROGRAM.search(error)
    command = _command_line(int(pid.group(1))) or (program.group(1) if program else None)
    return f"PID {pid.group(1)}" + (f" ({command})" if command else "")


def _command_line(pid: int) -> str | None:
    """How process ``pid`` was started; None where the system does not say."""
    try:
        return _readable(Path(f"/proc/{pid}/cmdline").read_bytes()) or None
    except OSError:
        return None


def _readable(cmdline: bytes) -> str:
    """A command line (its words each ended by NUL) as a person would type it: ``valuegap
    report costs``, not the Python interpreter and the script's path."""
    words = [w.decode(errors="replace") for w in cmdline.split(b"\0") if w]
    if len(words) > 1 and Path(words[0]).name.startswith("python") and words[1][:1] != "-":
        words = words[1:]  # an interpreter running a script: the script is the command
    if not words:
        return ""
    text = " ".join([Path(words[0]).name, *words[1:]])
    return text if len(text) <= LONGEST_COMMAND else text[:LONGEST_COMMAND] + "…"

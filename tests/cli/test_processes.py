"""Several `valuegap` processes on one ledger file: readers side by side, one writer at a time,
and a process that cannot get the file waits, then names who holds it (issue 16)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import valuegap
from valuegap import Ledger

pytestmark = pytest.mark.slow  # processes that each start Python and open the ledger

SOURCE = Path(valuegap.__file__).parents[1]  # the code under test, for the processes too
# A process that opens the ledger (read-only if asked), says so, and holds it until its input
# closes.
Hold = Callable[[Path, str], subprocess.Popen[str]]
HOLD = (
    "import sys; from valuegap import Ledger; "
    "ledger = Ledger.open(sys.argv[1], actor='alice', read_only=sys.argv[2] == 'read'); "
    "print('open', flush=True); sys.stdin.read()"
)


def _environment(**settings: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SOURCE), "COLUMNS": "200"}
    env.pop("VALUEGAP_DB", None)
    return {**env, **settings}


def _command() -> list[str]:
    """The installed `valuegap` script beside this Python, else the same entry point."""
    script = shutil.which("valuegap", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script]
    return [sys.executable, "-c", "import sys; from valuegap.cli import main; main()"]


def start(db: Path, actor: str, *args: str, **settings: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*_command(), *args, "--db", str(db), "--as", actor],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(**settings),
    )


def finish(processes: Sequence[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """Each process's exit code, output and errors, once all have ended."""
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


@pytest.fixture
def hold() -> Iterator[Hold]:
    """Start processes that hold a ledger open (``hold(db, "read" | "write")``) until the test
    ends; each has said it opened the file when ``hold`` returns it."""
    holders: list[subprocess.Popen[str]] = []

    def holding(db: Path, mode: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
        )
        holders.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line == "open\n", process.communicate(timeout=30)
        return process

    yield holding
    for process in holders:
        process.communicate(timeout=30)  # closes its input: it lets go of the file and ends


def _spans(path: Path, count: int) -> Path:
    """``count`` OpenTelemetry GenAI spans of one of the demo's initiatives, in March 2026."""
    start = 1_772_323_200  # 2026-03-01T00:00:00Z
    with path.open("w") as handle:
        for n in range(count):
            attributes = {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1000 + n % 500,
                "gen_ai.usage.output_tokens": 200 + n % 100,
                "valuegap.initiative": "loc-qa",
            }
            span = {
                "traceId": f"{0xF00D0000 + n:032x}",
                "spanId": f"{0xF00D0000 + n:016x}",
                "startTimeUnixNano": str((start + 60 * n) * 10**9),
                "attributes": attributes,
            }
            handle.write(json.dumps(span) + "\n")
    return path


@pytest.fixture
def demo_copy(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo ledger that a test may change."""
    copy = tmp_path / "demo" / demo.name
    copy.parent.mkdir()
    for file in demo.parent.glob(demo.name + "*"):
        shutil.copy(file, copy.parent / file.name)
    return copy


REPORTS = (("report", "portfolio", "--format", "json"), ("report", "costs", "--format", "json"))


def test_two_reports_and_an_ingest_together(demo_copy: Path, tmp_path: Path) -> None:
    """The acceptance of issue 16: two reports and an ingest of a few thousand spans, started
    together on the demo ledger, all succeed; each report shows the ledger as it was before the
    ingest or after it, never an error."""
    spans = _spans(tmp_path / "spans.jsonl", 3000)

    before = finish([start(demo_copy, "you", *report) for report in REPORTS])
    together = finish(
        [
            *(start(demo_copy, "you", *report) for report in REPORTS),
            start(demo_copy, "you", "ingest", "usage", str(spans)),
        ]
    )
    after = finish([start(demo_copy, "you", *report) for report in REPORTS])

    for code, out, err in [*before, *together, *after]:
        assert code == 0, err
        assert out
    *reports, (_, ingested, _) = together
    assert "3,000" in ingested or "3000" in ingested, ingested
    for report, was, now in zip(reports, before, after, strict=True):
        assert report[1] in (was[1], now[1])
    assert before[1][1] != after[1][1]  # the costs report saw the ingest's usage


def test_readers_side_by_side_and_a_writer_told_who_holds_the_file(
    db_path: Path, hold: Hold
) -> None:
    Ledger.init(db_path, actor="alice").close()
    first = hold(db_path, "read")
    second = hold(db_path, "read")  # readers do not block readers

    [(code, _, err)] = finish([start(db_path, "alice", "initiative", "list")])
    assert code == 0, err  # a third reader beside them

    writer = start(
        db_path, "alice", "user", "add", "bob", "--role", "viewer", VALUEGAP_LOCK_TIMEOUT="1"
    )
    [(code, _, err)] = finish([writer])
    assert code == 1
    assert f"PID {first.pid}" in err or f"PID {second.pid}" in err, err
    assert "lock_timeout" in err, err
    assert "cannot be opened as a ledger" not in err, err


def test_a_reader_waits_for_a_writer(db_path: Path, hold: Hold) -> None:
    """A reader that finds a writer holding the file waits, saying so, and reads once the
    writer lets go; with too short a wait it gives up, naming the writer."""
    Ledger.init(db_path, actor="alice").close()
    writer = hold(db_path, "write")

    [(code, _, err)] = finish(
        [start(db_path, "alice", "audit", "verify", VALUEGAP_LOCK_TIMEOUT="0.5")]
    )
    assert code == 1
    assert f"{db_path} is busy: PID {writer.pid}" in err, err

    reader = start(db_path, "alice", "audit", "verify")
    assert reader.stderr is not None
    assert reader.stderr.readline().startswith(f"Waiting for {db_path}: PID {writer.pid}")
    writer.communicate(timeout=30)  # the writer lets go
    [(code, out, err)] = finish([reader])
    assert (code, out.startswith("OK")) == (0, True), err

"""From the command line, a hostile file is refused with `Error:` and the file's name, exit 1:
never a traceback, never a bare `Aborted.`, and the ledger is unchanged."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.ledger_contents import contents
from valuegap import Ledger

from .conftest import Run

DATA = Path(__file__).parent.parent / "data"
FOCUS = (DATA / "focus-1.2-minimal.csv").read_bytes()


def _large_focus() -> bytes:
    header, first = FOCUS.split(b"\n")[:2]
    lines = [first.replace(b"p5.48xlarge", b"p5-%d" % n) for n in range(7_000)]
    return header + b"\n" + b"\n".join(lines) + b"\n"


LARGE_GZIP = gzip.compress(_large_focus())


CASES: dict[str, tuple[list[str], str, bytes, str]] = {
    # (command, file name, content, what the error says)
    "a gzip file cut to 15 bytes": (
        ["ingest", "focus"],
        "focus.csv.gz",
        gzip.compress(FOCUS)[:15],
        "is a damaged or truncated gzip file",
    ),
    "a truncated gzip file": (
        ["ingest", "focus"],
        "focus.csv.gz",
        LARGE_GZIP[: len(LARGE_GZIP) // 2],
        "is a damaged or truncated gzip file",
    ),
    "Latin-1 in a FOCUS file": (
        ["ingest", "focus"],
        "focus.csv",
        FOCUS.replace(b"Northwind", b"Nordw\xe9st", 1),
        "line 2, byte offset",
    ),
    "Latin-1 in a usage file": (
        ["ingest", "usage", "--map", "timestamp=ts,model=model_name"],
        "usage.csv",
        (DATA / "usage-generic.csv").read_bytes().replace(b"growth", b"gr\xf6wth", 1),
        "line 2, byte offset",
    ),
    "Latin-1 in a rates file": (
        ["ingest", "rates"],
        "rates.csv",
        b"valid_from,from_currency,to_currency,rate\n2025-01-01,EUR,USD,1.08 \xa4\n",
        "line 2, byte offset",
    ),
    "a 10 MB field": (
        ["ingest", "rates"],
        "rates.csv",
        b"valid_from,from_currency,to_currency,rate\n2025-01-01,EUR,USD," + b"9" * 10**7 + b"\n",
        "is longer than the limit of 1,048,576 bytes a line",
    ),
    "a 200 KB column name": (
        ["ingest", "focus"],
        "focus.csv",
        b"H" * 200_000 + b"," + FOCUS,
        "a column name is longer than 1,024 characters",
    ),
    "a file of another kind": (
        ["ingest", "focus"],
        "passwd",
        b"root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000:Ann,,,:/home/ann:/bin/bash\n",
        "is a required FOCUS column but is missing",
    ),
    "a YAML key given twice": (
        ["apply"],
        "portfolio.yaml",
        b"initiatives:\n  - id: x\n    name: X\n    name: Y\n",
        "the key 'name' is given twice, on line 3 and on line 4: keep one",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_file_is_refused_with_a_message(
    run: Run, db_path: Path, tmp_path: Path, example_portfolio: Path, case: str
) -> None:
    assert run("apply", str(example_portfolio)).exit_code == 0
    assert run("ingest", "rates", str(DATA / "rates.csv")).exit_code == 0
    command, name, content, said = CASES[case]
    path = tmp_path / name
    path.write_bytes(content)
    with Ledger.open(db_path, actor="alice") as ledger:
        before = contents(ledger)
    result = run(*command, str(path))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # the error path, not a crash
    assert result.stderr.lstrip().startswith(f"Error: {path}")
    assert said in result.stderr
    assert "Traceback" not in result.output and "Aborted" not in result.output
    assert len(result.stderr) < 2_000  # no field or file echoed
    for shown in ("root:x", "/bin/bash", "HHHHHHHHHH", "9999999999"):
        assert shown not in result.stderr
    with Ledger.open(db_path, actor="alice") as ledger:
        assert contents(ledger) == before


def test_a_directory_is_named_as_one(run: Run, tmp_path: Path) -> None:
    for command in (["ingest", "focus"], ["ingest", "usage", "--input-format", "otel"], ["apply"]):
        result = run(*command, str(tmp_path))
        assert result.exit_code == 1
        assert f"{tmp_path}: is a directory: give a file" in result.stderr

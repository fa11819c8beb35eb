"""Every CSV reader checks its file at the edge: UTF-8 with or without a byte order mark is read,
anything else is refused naming the byte; lines, fields and column names have limits; a gzip
file must be whole; a directory or a file of another kind is named as such. Each refusal is an
``IngestError`` naming the file, and the ledger is unchanged."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.errors import IngestError

DATA = Path(__file__).parent.parent / "data"
USAGE_MAPPING = {
    "timestamp": "ts",
    "request_model": "model_name",
    "provider": "vendor",
    "input_tokens": "in_tok",
    "output_tokens": "out_tok",
}


@dataclass(frozen=True)
class Reader:
    ingest: Callable[[Ledger, Path], int]  # rows added
    text: bytes  # a valid file of its kind
    rows: int  # the rows that file adds


def _measures(kind: str) -> Callable[[Ledger, Path], int]:
    return lambda ledger, path: ledger.outcomes.ingest_measures(kind, path).rows_added  # type: ignore[arg-type]


READERS = {
    "focus": Reader(
        lambda ledger, path: ledger.costs.ingest_focus([path])[0].rows_added,
        (DATA / "focus-1.2-minimal.csv").read_bytes(),
        5,
    ),
    "usage csv": Reader(
        lambda ledger, path: ledger.costs.ingest_usage(path, "csv", USAGE_MAPPING).rows_added,
        (DATA / "usage-generic.csv").read_bytes(),
        2,
    ),
    "litellm": Reader(
        lambda ledger, path: ledger.costs.ingest_usage(path, "litellm").rows_added,
        (DATA / "litellm-spend.csv").read_bytes(),
        2,
    ),
    "manual costs": Reader(
        lambda ledger, path: ledger.costs.ingest_costs(path).rows_added,
        (DATA / "manual-costs.csv").read_bytes(),
        3,
    ),
    "rates": Reader(
        lambda ledger, path: ledger.costs.ingest_rates(path).rows_added,
        b"valid_from,from_currency,to_currency,rate\n2025-03-01,GBP,USD,1.27\n",
        1,
    ),
    "observations": Reader(
        _measures("observations"),
        b"metric,period_start,period_end,group,phase,n,mean,sd\n"
        b"loc-qa-hours,2025-01-01,2025-04-01,all,before,12,40,4\n",
        1,
    ),
    "outcomes": Reader(
        _measures("outcomes"),
        b"initiative,period_start,period_end,count\nrefund-agent,2025-01-01,2025-02-01,120\n",
        1,
    ),
    "behaviour": Reader(
        _measures("behaviour"),
        b"initiative,period_start,period_end,decisions,accepted,overridden,"
        b"escalated\nrefund-agent,2025-01-01,2025-02-01,100,80,15,5\n",
        1,
    ),
    "quality": Reader(
        _measures("quality"),
        b"initiative,period_start,period_end,score,"
        b"sample_size\nrefund-agent,2025-01-01,2025-02-01,0.9,200\n",
        1,
    ),
}


@pytest.fixture
def stocked(ledger: Ledger, example_portfolio: Path) -> Ledger:
    """A ledger with initiatives and something already stored, which a refusal must keep."""
    ledger.portfolio.apply_file(example_portfolio)
    ledger.costs.ingest_rates(DATA / "rates.csv")
    return ledger


def _refused(ledger: Ledger, reader: Reader, path: Path) -> IngestError:
    before = contents(ledger)
    with pytest.raises(IngestError) as refused:
        reader.ingest(ledger, path)
    assert contents(ledger) == before
    assert refused.value.file == str(path)
    return refused.value


@pytest.mark.parametrize("kind", READERS)
def test_utf8_with_a_byte_order_mark_is_read_by_every_csv_reader(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    reader = READERS[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(b"\xef\xbb\xbf" + reader.text)
    assert reader.ingest(stocked, path) == reader.rows


@pytest.mark.parametrize("kind", READERS)
def test_latin1_in_the_first_rows_is_refused_naming_the_byte(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    reader = READERS[kind]
    header, first, rest = reader.text.split(b"\n", 2)
    data = b"\n".join([header, first.replace(b",", b",caf\xe9 ", 1), rest])
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    [problem] = _refused(stocked, reader, path).problems
    offset = data.index(b"\xe9")
    assert problem.where == f"{path}, line 2, byte offset {offset:,}"
    assert problem.message.startswith("is not UTF-8 text: save the file as UTF-8")
    assert problem.value == b"\xe9"


@pytest.mark.parametrize("kind", ["focus", "usage csv", "rates"])
def test_a_latin1_byte_a_megabyte_into_a_large_file_is_refused_naming_its_line(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    reader = READERS[kind]
    header, first = reader.text.split(b"\n")[:2]
    repeats = 1_200_000 // (len(first) + 1)
    data = header + b"\n" + (first + b"\n") * repeats
    data += first.replace(b",", b",\xe9", 1) + b"\n" + (first + b"\n") * 10
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    [problem] = _refused(stocked, reader, path).problems
    offset = data.index(b"\xe9")
    assert offset > 1_000_000
    assert problem.where == f"{path}, line {repeats + 2}, byte offset {offset:,}"


def test_a_latin1_header_is_refused_naming_line_1(stocked: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_bytes(b"valid_from,from_currency,to_currency,r\xe9te\n2025-03-01,GBP,USD,1.27\n")
    [problem] = _refused(stocked, READERS["rates"], path).problems
    # valid_from, from_currency, to_currency, each with its comma, then "r": 11 + 14 + 12 + 1
    assert problem.where == f"{path}, line 1, byte offset 38"


def test_a_gzip_file_without_gz_in_its_name_is_named_as_gzip(
    stocked: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "focus.csv"
    path.write_bytes(gzip.compress(READERS["focus"].text))
    [problem] = _refused(stocked, READERS["focus"], path).problems
    assert str(problem) == f"{path}: is gzip-compressed: give it a name that ends in .gz"


def _large_focus() -> bytes:
    """A FOCUS export of about 2 MB, each line different."""
    header, first = READERS["focus"].text.split(b"\n")[:2]
    lines = [first.replace(b"p5.48xlarge", b"p5-%d" % n) for n in range(7_000)]
    return header + b"\n" + b"\n".join(lines) + b"\n"


def test_a_whole_gzip_file_is_read(stocked: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "focus.csv.gz"
    path.write_bytes(gzip.compress(_large_focus()))
    assert stocked.costs.ingest_focus([path])[0].rows_added == 7_000


@pytest.mark.parametrize("kept", [15, "half"])
def test_a_truncated_gzip_file_is_refused_as_such(
    stocked: Ledger, tmp_path: Path, kept: int | str
) -> None:
    compressed = gzip.compress(_large_focus())
    path = tmp_path / "focus.csv.gz"
    # cut in half, the file's data ends in the middle: read as far as it goes, it looks like
    # a shorter file (before, half of this file loaded 3,461 of its 7,000 rows, no error)
    path.write_bytes(compressed[: 15 if kept == 15 else len(compressed) // 2])
    [problem] = _refused(stocked, READERS["focus"], path).problems
    assert problem.where == str(path)
    assert problem.message.startswith("is a damaged or truncated gzip file")
    assert problem.message.endswith("compress or download it again")


def test_a_10_mb_field_is_refused_without_echoing_it(stocked: Ledger, tmp_path: Path) -> None:
    header = (
        b"period_start,period_end,category,amount,currency,initiative,business_unit,description"
    )
    row = b"2025-01-01,2025-02-01,data,10,USD,loc-qa,,"
    path = tmp_path / "costs.csv"
    path.write_bytes(header + b"\n" + row + b"x" * 10_000_000 + b"\n")
    refused = _refused(stocked, READERS["manual costs"], path)
    [problem] = refused.problems
    assert problem.where == f"{path}, line 2"
    assert "is longer than the limit of 1,048,576 bytes a line" in problem.message
    assert len(str(refused).replace(str(path), "<file>")) < 400  # however deep tmp_path is


def test_a_field_within_the_line_limit_is_stored_whole(stocked: Ledger, tmp_path: Path) -> None:
    header = (
        b"period_start,period_end,category,amount,currency,initiative,business_unit,description"
    )
    row = b"2025-01-01,2025-02-01,data,10,USD,loc-qa,,"
    path = tmp_path / "costs.csv"
    path.write_bytes(header + b"\n" + row + b"x" * 1_000_000 + b"\n")
    assert stocked.costs.ingest_costs(path).rows_added == 1
    stored = stocked.session.db.one("SELECT max(length(description)) FROM manual_costs")
    assert stored == (1_000_000,)


@pytest.mark.parametrize("length", [2_000, 200_000])
def test_a_long_column_name_is_refused(stocked: Ledger, tmp_path: Path, length: int) -> None:
    path = tmp_path / "rates.csv"
    name = "h" * length
    path.write_text(f"valid_from,from_currency,to_currency,rate,{name}\n2025-03-01,GBP,USD,1,x\n")
    refused = _refused(stocked, READERS["rates"], path)
    [problem] = refused.problems
    assert problem.where == f"{path}, column '(header)'"
    assert "longer than 1,024 characters" in problem.message
    assert len(str(refused).replace(str(path), "<file>")) < 400  # however deep tmp_path is


@pytest.mark.parametrize("kind", READERS)
def test_a_directory_is_named_as_one(stocked: Ledger, tmp_path: Path, kind: str) -> None:
    [problem] = _refused(stocked, READERS[kind], tmp_path).problems
    assert str(problem) == f"{tmp_path}: is a directory: give a file"


def test_a_missing_file_is_named_as_missing(stocked: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    [problem] = _refused(stocked, READERS["focus"], path).problems
    assert str(problem) == f"{path}: no such file"


PASSWD = (
    b"root:x:0:0:root:/root:/bin/bash\n"
    b"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    b"ann:x:1000:1000:Ann Smith,Room 12,,:/home/ann:/bin/bash\n"
)


@pytest.mark.parametrize("kind", READERS)
def test_a_file_of_another_kind_is_refused_without_showing_it(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "passwd"
    path.write_bytes(PASSWD)
    refused = _refused(stocked, READERS[kind], path)
    said = str(refused)
    assert "is missing" in said
    for shown in ("root:x", "/bin/bash", "Ann Smith", "nologin"):
        assert shown not in said


@pytest.mark.parametrize("content", ["cut short", "another kind"])
def test_a_parquet_file_that_is_not_whole_is_refused_as_such(
    stocked: Ledger, tmp_path: Path, content: str
) -> None:
    whole = tmp_path / "whole.parquet"
    stocked.session.db.execute(
        f"COPY (SELECT * FROM read_csv('{DATA / 'focus-1.2-minimal.csv'}', all_varchar = true)) "
        f"TO '{whole}'"
    )
    data = whole.read_bytes()
    path = tmp_path / "focus.parquet"
    path.write_bytes(data[: len(data) // 2] if content == "cut short" else PASSWD)
    [problem] = _refused(stocked, READERS["focus"], path).problems
    assert str(problem) == (
        f"{path}: is not a whole Parquet file: it is cut short, or another kind of file"
    )

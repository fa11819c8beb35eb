"""FOCUS cost-and-usage exports (CSV, gzip CSV, Parquet), hostile."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from .conftest import DATA, FUZZ, Fresh, holds, written
from .hostile import Table, hostile_csv, mutated_table, parquet_bytes, read_table

FOCUS = read_table(DATA / "focus-1.2-minimal.csv")


@FUZZ
@given(file=hostile_csv(FOCUS))
def test_a_hostile_focus_csv_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_focus([path]), names=path.name)


@FUZZ
@given(value=mutated_table(FOCUS), extra=st.booleans())
def test_a_hostile_focus_parquet_file_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, value: Table, extra: bool
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = folder / "input.parquet"
        path.write_bytes(parquet_bytes(value))
        paths = [path, DATA / "focus-1.2-minimal.csv"] if extra else [path]
        holds(ledger, lambda: ledger.costs.ingest_focus(paths), names=path.name)

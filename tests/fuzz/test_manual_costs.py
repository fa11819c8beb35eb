"""Manual cost entries (amounts, or FTE x rate) and currency rates, hostile."""

from __future__ import annotations

from hypothesis import given

from .conftest import DATA, FUZZ, Fresh, holds, written
from .hostile import hostile_csv, read_table

COSTS = read_table(DATA / "manual-costs.csv")
RATES = read_table(DATA / "rates.csv")


@FUZZ
@given(file=hostile_csv(COSTS))
def test_a_hostile_manual_cost_file_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_costs(path), names=path.name)


@FUZZ
@given(file=hostile_csv(RATES))
def test_a_hostile_rates_file_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_rates(path), names=path.name)

"""LiteLLM spend logs, hostile."""

from __future__ import annotations

from hypothesis import given

from .conftest import DATA, FUZZ, Fresh, holds, written
from .hostile import hostile_csv, read_table

SPEND = read_table(DATA / "litellm-spend.csv")


@FUZZ
@given(file=hostile_csv(SPEND))
def test_a_hostile_litellm_spend_log_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_usage(path, "litellm"), names=path.name)

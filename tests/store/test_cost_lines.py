"""The cost rollup's query written for DuckDB (``store.cost_lines``) gives the rows the Ibis
rollup (``costs.rollup``) gives, to the last decimal place and in the same types: on the demo
ledger (a year and a half of usage, invoices, manual costs, tags), by every key a report or a
rule may ask for, for every month or some, with the kinds of token or without."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.costs.allocation import report
from valuegap.costs.daily import DAILY_DIMENSIONS, DAY_KEYS, daily_sums
from valuegap.costs.external_sums import LINE_KEYS
from valuegap.costs.rollup import summed_lines
from valuegap.costs.rules import keys_for
from valuegap.model.focus import COST_COLUMNS
from valuegap.store import cost_lines
from valuegap.store.engine import ibis_tables, rows, unbound_tables

DAILY = [*DAILY_DIMENSIONS, *DAY_KEYS]
TAGS = ["tag:initiative", "tag:application", "tag:no such tag", 'tag:it\'s "quoted"']
# Every month, three of them (two in a run, one apart, across a year's end), one, none.
MONTHS: list[Sequence[date] | None] = [
    None,
    [date(2025, 11, 1), date(2025, 12, 1), date(2026, 3, 1)],
    [date(2026, 6, 1)],
    [],
]


@pytest.fixture(scope="module")
def ledger(demo: Path) -> Iterator[Ledger]:
    opened = Ledger.open(demo, actor="you", read_only=True)
    yield opened
    opened.close()


def _exact(found: list[dict[str, Any]]) -> list[tuple[tuple[str, str], ...]]:
    """Rows as their columns in order and each value's repr (type and decimal places), sorted:
    neither query orders its rows."""
    return sorted(tuple((name, repr(value)) for name, value in row.items()) for row in found)


@pytest.mark.parametrize("months", MONTHS, ids=["all", "three", "one", "none"])
@pytest.mark.parametrize(
    "by",
    [DAILY, [*LINE_KEYS, *TAGS], ["model", "basis"]],
    ids=["daily", "every key and tags", "a report's"],
)
def test_the_query_gives_the_ibis_rollups_rows(
    ledger: Ledger, by: list[str], months: Sequence[date] | None
) -> None:
    db = ledger.session.db
    keys = keys_for([], by)
    for cost_column in COST_COLUMNS.values():
        for token_kinds in (False, True):
            expected = rows(
                db,
                summed_lines(
                    unbound_tables(db), keys, cost_column, months, token_kinds=token_kinds
                ),
            )
            found = cost_lines.summed_lines(db, keys, cost_column, months, token_kinds=token_kinds)
            assert _exact(found) == _exact(expected)
            if months != []:
                assert len(found) > 10
                assert list(found[0]) == cost_lines.columns(keys, token_kinds=token_kinds)


def test_allocated_cost_and_daily_spend_are_those_of_the_ibis_rollup(ledger: Ledger) -> None:
    on_ibis = ibis_tables(ledger.session.db)
    for by in (["initiative", "business_unit", "month", "basis"], ["provider", "model", "month"]):
        found = report(ledger.costs.allocated_parts(by), by)
        expected = report(ledger.costs.allocated_parts(by, on_ibis), by)
        assert _exact(found) == _exact(expected)
        assert len(found) > 10
    found_days = daily_sums(ledger.costs.allocated_parts(DAILY))
    expected_days = daily_sums(ledger.costs.allocated_parts(DAILY, on_ibis))
    assert found_days == expected_days
    assert len(found_days.cost) > 1000

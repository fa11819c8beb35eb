"""Tables at 80 columns on the demo ledger: every report shows every money value of its JSON
whole, rounded to the currency's minor unit, and cuts nothing (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from valuegap.cli import app
from valuegap.decimals import money

# The money fields of the reports' JSON; cost_by_category is a mapping of amounts.
MONEY = {
    "cost",
    "estimated",
    "usage_cost",
    "invoiced",
    "computed",
    "gap",
    "reported",
    "list_cost",
    "total_cost",
    "validated_cost",
    "unallocated_cost",
    "unit_overhead_cost",
    "cost_by_category",
    "cost_per_outcome",
    "previous_cost_per_outcome",
    "value",
    "value_low",
    "value_high",
    "cumulative_cost",
    "cumulative_value",
}
# Detail that a table leaves out (JSON and CSV have it): a metric's and behaviour's periods, the
# cost per outcome month by month.
LEFT_OUT = {"periods", "by_month"}
INITIATIVES = [
    "code-review",
    "doc-classifier",
    "emotion-monitoring",
    "fraud-detection",
    "loc-qa",
    "meeting-summariser",
    "product-recs",
    "refund-agent",
    "sales-forecast",
]
REPORTS = [
    ["portfolio"],
    ["scoreboard"],
    ["costs"],
    ["costs", "--by", "initiative,month,provider,model,basis"],
    ["reconcile"],
    *(["initiative", initiative] for initiative in INITIATIVES),
]


def amounts(data: object, currency: str | None = None) -> Iterator[str]:
    """Every money value of a report's JSON as a table shows it, in the currency of the object
    that holds it or of the report."""
    if isinstance(data, list):
        for item in data:
            yield from amounts(item, currency)
    if not isinstance(data, dict):
        return
    currency = data.get("currency", currency)
    for key, value in data.items():
        if key in LEFT_OUT:
            continue
        if key in MONEY and isinstance(value, str):
            yield money(Decimal(value), currency)
        elif key in MONEY and isinstance(value, dict):
            yield from (money(Decimal(amount), currency) for amount in value.values())
        else:
            yield from amounts(value, currency)


@pytest.mark.parametrize("report", REPORTS, ids=" ".join)
def test_every_money_value_is_whole_at_80_columns(demo: Path, report: list[str]) -> None:
    runner = CliRunner()
    command = ["report", *report, "--db", str(demo), "--as", "you"]
    as_json = runner.invoke(app, [*command, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    table = runner.invoke(app, command, env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output

    expected = set(amounts(json.loads(as_json.stdout)))
    assert expected  # every report has money
    words = set(table.stdout.split())
    assert sorted(expected - words) == []
    assert "…" not in table.stdout
    assert all(cell_len(line) <= 80 for line in table.stdout.splitlines())

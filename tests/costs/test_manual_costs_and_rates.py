from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import IngestError, ValidationError
from valuegap.model.manual import spread

DATA = Path(__file__).parent.parent / "data"


def test_spread_is_even_over_whole_months_and_by_days_otherwise() -> None:
    from datetime import date

    assert spread(Decimal("100"), date(2025, 1, 1), date(2025, 4, 1)) == [
        (date(2025, 1, 1), Decimal("33.3333333333")),
        (date(2025, 2, 1), Decimal("33.3333333333")),
        (date(2025, 3, 1), Decimal("33.3333333334")),
    ]
    # 15 Jan to 15 Feb: 17 days in January, 14 in February, of 31.
    assert spread(Decimal("310"), date(2025, 1, 15), date(2025, 2, 15)) == [
        (date(2025, 1, 1), Decimal("170")), (date(2025, 2, 1), Decimal("140")),
    ]  # fmt: skip


def test_manual_costs_with_people_and_currencies(ledger: Ledger, example_portfolio: Path) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    ledger.costs.ingest_rates(DATA / "rates.csv")
    result = ledger.costs.ingest_costs(DATA / "manual-costs.csv")
    assert (result.rows_read, result.rows_added) == (3, 3)
    assert ledger.costs.ingest_costs(DATA / "manual-costs.csv").rows_added == 0
    rows = {(r.category, r.business_unit, r.month): r.cost
            for r in ledger.costs.cost_report(["category", "business_unit", "month"])}  # fmt: skip
    # 2 FTE x 12,000 a month = 24,000 in each of January, February and March.
    assert rows[("development", "marketing", "2025-01")] == Decimal("24000")
    assert rows[("development", "marketing", "2025-03")] == Decimal("24000")
    # 4,500 EUR at the January rate 1.08 = 4,860 USD, on the marketing unit.
    assert rows[("data", "marketing", "2025-01")] == Decimal("4860")
    assert rows[("operations", "operations", "2025-02")] == Decimal("140")


def test_a_currency_without_a_rate_is_an_error(ledger: Ledger, example_portfolio: Path) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    ledger.costs.ingest_costs(DATA / "manual-costs.csv")
    with pytest.raises(ValidationError, match="EUR in 2025-01: has no rate to USD"):
        ledger.costs.cost_report(["initiative"])


def test_bad_manual_cost_rows_are_named(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2025-01-01,2025-02-01,people,100,USD,,ops,x\n"
        "2025-01-01,2025-02-01,data,100,USD,,,y\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_costs(path)
    found = [str(p) for p in refused.value.problems]
    assert any("row 1, column 'category'" in p and "'people'" in p for p in found)
    assert any("row 2, column 'initiative': and business_unit are both empty" in p
               for p in found)  # fmt: skip

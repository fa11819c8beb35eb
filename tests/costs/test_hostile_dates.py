"""Dates outside the years the ledger keeps (1970 to 2099) are refused at every reader, naming
the file, row, column and value, with the ledger unchanged. Before, DuckDB's `infinity`,
year 0 and 9999-12-31 were stored, and from then on every cost or portfolio report raised an
OverflowError (or the ingest itself crashed while spreading or pricing), found by the fuzzing
suite (tests/fuzz)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.errors import IngestError

FOCUS_HEADER = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory\n"
)
USAGE_MAPPING = {
    "timestamp": "ts",
    "request_model": "model_name",
    "provider": "vendor",
    "input_tokens": "in_tok",
    "output_tokens": "out_tok",
}
DATA = Path(__file__).parent.parent / "data"
Ingest = Callable[[Ledger, Path], object]

# reader -> (the file with one bad date on its first row, the column named, the ingest)
CASES: dict[str, tuple[str, str, Ingest]] = {
    "focus": (
        FOCUS_HEADER + "acct,USD,2026-01-01,{date},2026-02-01,Usage,10,10,AWS,Amazon EC2,Compute\n",
        "ChargePeriodStart",
        lambda ledger, path: ledger.costs.ingest_focus([path]),
    ),
    "usage csv": (
        "ts,model_name,vendor,in_tok,out_tok\n{date},gpt-4o,openai,1000,1000\n",
        "ts",
        lambda ledger, path: ledger.costs.ingest_usage(path, "csv", USAGE_MAPPING),
    ),
    "litellm": (
        "request_id,spend,prompt_tokens,completion_tokens,startTime,model,custom_llm_provider\n"
        "c-1,0.01,1000,500,{date},gpt-4o,openai\n",
        "startTime",
        lambda ledger, path: ledger.costs.ingest_usage(path, "litellm"),
    ),
    "manual costs": (
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2025-01-01,{date},data,10,USD,loc-qa,,labelling\n",
        "period_end",
        lambda ledger, path: ledger.costs.ingest_costs(path),
    ),
    "rates": (
        "valid_from,from_currency,to_currency,rate\n{date},EUR,USD,1.08\n",
        "valid_from",
        lambda ledger, path: ledger.costs.ingest_rates(path),
    ),
    "outcomes": (
        "initiative,metric,period_start,period_end,count,source\n"
        "refund-agent,refunds-resolved,2025-03-01,{date},40,Zendesk\n",
        "period_end",
        lambda ledger, path: ledger.outcomes.ingest_measures("outcomes", path),
    ),
}
DATES = ["infinity", "0000-01-01", "9999-12-31"]


@pytest.fixture
def portfolio_ledger(ledger: Ledger, example_portfolio: Path) -> Ledger:
    ledger.portfolio.apply_file(example_portfolio)
    ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
    return ledger


@pytest.mark.parametrize("reader", CASES)
@pytest.mark.parametrize("date", DATES)
def test_a_date_outside_the_years_is_refused_and_changes_nothing(
    portfolio_ledger: Ledger, tmp_path: Path, reader: str, date: str
) -> None:
    text, column, ingest = CASES[reader]
    path = tmp_path / f"{reader.replace(' ', '-')}.csv"
    path.write_text(text.format(date=date))
    before = contents(portfolio_ledger)
    with pytest.raises(IngestError) as refused:
        ingest(portfolio_ledger, path)
    assert contents(portfolio_ledger) == before
    portfolio_ledger.costs.cost_report(["month"])  # every report still works
    portfolio_ledger.outcomes.portfolio_report()
    message = str(refused.value)
    assert f"{path}, row 1, column '{column}'" in message
    assert "from 1970 to 2099" in message
    assert repr(date) in message


def test_the_first_and_last_years_are_kept(portfolio_ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    path.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "1970-01-01,1970-03-01,data,10,USD,loc-qa,,first\n"
        "2099-10-01,2099-12-31,data,10,USD,loc-qa,,last\n"
    )
    assert portfolio_ledger.costs.ingest_costs(path).rows_added == 2
    months = {str(r.month)[:7] for r in portfolio_ledger.costs.cost_report(["month"])}
    assert {"1970-01", "1970-02", "2099-10", "2099-11", "2099-12"} <= months
    for outside in ("1969-12-31", "2100-01-01", "-infinity"):
        path.write_text(
            "period_start,period_end,category,amount,currency,initiative,business_unit,"
            f"description\n2025-01-01,{outside},data,10,USD,loc-qa,,outside\n"
        )
        with pytest.raises(IngestError, match="is not a date from 1970 to 2099"):
            portfolio_ledger.costs.ingest_costs(path)

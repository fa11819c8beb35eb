"""Every amount is bounded so that every total of them fits (docs/costs.md, "How large an amount
can be"): a line at the bound is accepted and every report still works; one above it is refused
naming file, row, column, value and the bound, and the ledger is unchanged."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from valuegap import Ledger
from valuegap.bounds import WIDE
from valuegap.errors import IngestError, ValidationError
from valuegap.model.portfolio import Portfolio
from valuegap.portfolio.validation import validated
from valuegap.results import to_json

from ..conftest import DEMO_TOTAL, ready

FOCUS = Path(__file__).parent.parent / "data" / "focus-1.2-minimal.csv"
LARGEST = "999999999999999.9999999999"  # the largest cost line: less than 10^15
COST_TABLES = ("focus_lines", "usage_events", "manual_costs", "currency_rates", "price_overrides")


def _copy_of(demo: Path, tmp_path: Path) -> Path:
    shutil.copy(demo, tmp_path / "demo.duckdb")  # it finds the demo's key (tests/conftest.py)
    return tmp_path / "demo.duckdb"


def _one_line(path: Path, effective_cost: str, charge: str = "Usage") -> Path:
    """The first line of the FOCUS test file with another EffectiveCost and ChargeCategory,
    in a month of the demo (2026-03) and with an initiative's tag."""
    header, line = FOCUS.read_text().splitlines()[:2]
    line = line.replace("1100.25", effective_cost).replace("2025-0", "2026-0")
    path.write_text(f"{header}\n{line.replace(',Usage,', f',{charge},')}\n")
    return path


def _tables(db: Path) -> dict[str, list[Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in COST_TABLES}
    finally:
        con.close()


def _every_report(ledger: Ledger) -> dict[str, Any]:
    return {
        "costs": ledger.costs.cost_report(["initiative", "month"]),
        "portfolio": ledger.outcomes.portfolio_report(),
        "initiative": ledger.outcomes.initiative_report("loc-qa"),
        "reconcile": ledger.costs.reconcile(),
        "scoreboard": ledger.outcomes.scoreboard(),
    }


def test_a_cost_line_at_the_bound_keeps_every_report_working(demo: Path, tmp_path: Path) -> None:
    db = _copy_of(demo, tmp_path)
    with Ledger.open(db, actor="finn.berg") as ledger:
        before = sum(r.cost for r in ledger.costs.cost_report([]))
        ledger.costs.ingest_focus([_one_line(tmp_path / "big.csv", LARGEST)])
        reports = _every_report(ledger)
        [total] = ledger.costs.cost_report([])
    # The demo's total plus the line, to the cent: the line counts whole, nothing wrapped
    # around.
    assert before.quantize(Decimal("0.01")) == DEMO_TOTAL
    assert total.cost == before + Decimal(LARGEST)
    loc_qa = sum(r.cost for r in reports["costs"] if r.initiative == "loc-qa")
    assert loc_qa > Decimal(LARGEST)  # its tag initiative: loc-qa allocates it
    assert to_json(reports)  # every report renders (no overflow)


def test_a_cost_line_above_the_bound_is_refused_naming_it(demo: Path, tmp_path: Path) -> None:
    db = _copy_of(demo, tmp_path)
    before = _tables(db)
    with Ledger.open(db, actor="finn.berg") as ledger, pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([_one_line(tmp_path / "big.csv", "1e20")])
    [problem] = refused.value.problems
    assert str(problem) == (
        f"{tmp_path / 'big.csv'}, row 1, column 'EffectiveCost': is too large: a cost must be "
        "less than 1,000,000,000,000,000 in size (so that every total of them fits); split "
        "it, or check the unit and the decimal point (found '1e20')"
    )
    assert _tables(db) == before
    with Ledger.open(db, actor="finn.berg") as ledger:
        assert ledger.costs.cost_report([])[0].cost.quantize(Decimal("0.01")) == DEMO_TOTAL


def test_a_usage_cost_above_its_bound_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "event_id,timestamp,model,input_tokens,cost\n"
        "a,2025-01-01T00:00:00Z,gpt-4o,10,9999999.9999999999\n"
        "b,2025-01-01T00:00:00Z,gpt-4o,10,1e20\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv")
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 2, column 'cost': is too large: a usage event's cost must be less than "
        "10,000,000 in size (so that every total of them fits); split it, or check the unit "
        "and the decimal point (found '1e20')"
    ]
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)
    path.write_text(path.read_text().splitlines()[0] + "\n" + path.read_text().splitlines()[1])
    assert ledger.costs.ingest_usage(path, "csv").rows_added == 1  # the one at the bound lands


def test_a_price_that_would_price_a_call_above_the_bound_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "u.csv"
    # 20,000 input tokens: at 1,000,000,000 per million tokens, 20,000,000 > 10,000,000.
    path.write_text(
        "event_id,timestamp,provider,model,input_tokens,output_tokens\n"
        "a,2025-01-01T00:00:00Z,openai,gpt-4o,20000,0\n"
    )
    ledger.costs.ingest_usage(path, "csv")
    stored = ledger.session.db.all("SELECT * FROM usage_events")
    with pytest.raises(ValidationError) as refused:
        ledger.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal(10**9),
            output_per_mtok=Decimal(1),
            valid_from=date(2025, 1, 1),
        )
    assert "1 call would cost more than a usage event may" in str(refused.value)
    assert "20000000 for 20,000 tokens of gpt-4o at 2025-01-01 00:00" in str(refused.value)
    assert ledger.session.db.all("SELECT * FROM usage_events") == stored
    assert ledger.session.db.one("SELECT count(*) FROM price_overrides") == (0,)
    # price set 1e40: refused before anything is priced
    with pytest.raises(ValidationError, match="must be a number from 0 to 1,000,000,000"):
        ledger.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal("1e40"),
            output_per_mtok=Decimal(1),
            valid_from=date(2025, 1, 1),
        )


def test_fte_times_rate_above_the_bound_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    header = "period_start,period_end,category,amount,currency,initiative,business_unit,"
    path.write_text(
        f"{header}description,fte,rate_per_month\n"
        "2025-01-01,2025-04-01,development,,USD,,ml,Engineers,2,12000\n"
        "2025-01-01,2025-04-01,development,,USD,,ml,Overflow,10000000000,10000000000\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_costs(path)
    # 10^10 x 10^10 x 3 months = 3 x 10^20, over 10^15.
    assert str(refused.value.problems[0]) == (
        f"{path}, row 2, column 'rate_per_month': is too large: fte x rate_per_month x months "
        "must be less than 1,000,000,000,000,000 in size (so that every total of them fits); "
        "split it, or check the unit and the decimal point (found '10000000000 x 10000000000 "
        "x 3 months')"
    )
    assert ledger.session.db.one("SELECT count(*) FROM manual_costs") == (0,)


def test_a_currency_rate_out_of_range_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "valid_from,from_currency,to_currency,rate\n"
        "2025-01-01,EUR,USD,1.08\n"
        "2025-01-01,USD,VND,25000000\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_rates(path)
    assert str(refused.value.problems[0]) == (
        f"{path}, row 2, column 'rate': is out of range: a rate is from 0.000001 to 1,000,000 "
        "(so that every converted total fits); check which currency is from and which is to "
        "(found '25000000')"
    )
    assert ledger.session.db.one("SELECT count(*) FROM currency_rates") == (0,)


def test_a_value_per_unit_above_the_bound_is_refused() -> None:
    def portfolio(value_per_unit: str) -> Portfolio:
        spec = ready("big")
        spec["metrics"][0]["value_per_unit"] = Decimal(value_per_unit)
        return validated(Portfolio, {"initiatives": [spec]}, "p.yaml was refused.")

    assert portfolio(LARGEST).initiatives[0].metrics[0].value_per_unit == Decimal(LARGEST)
    with pytest.raises(ValidationError) as refused:
        portfolio("1000000000000000")  # 10^15: just above
    [problem] = refused.value.problems
    assert problem.message.startswith("is too large: an amount must be less than 1,000,000,")
    assert "value_per_unit" in problem.where


def test_a_value_from_amounts_at_their_bounds_is_reported_to_the_cent(
    ledger: Ledger, tmp_path: Path
) -> None:
    from decimal import ROUND_HALF_EVEN, localcontext

    from valuegap.outcomes.periods import parse_period

    metric = {"id": "basket", "name": "Basket", "unit": "USD per order", "direction": "increase",
              "method": "ab_test", "value_per_unit": Decimal(LARGEST), "currency": "USD",
              "volume_basis": "order"}  # fmt: skip
    spec = {"id": "upsell", "name": "Upsell", "kind": "use_case", "business_unit": "sales",
            "metrics": [metric]}  # fmt: skip
    ledger.portfolio.apply(Portfolio.model_validate({"initiatives": [spec]}))
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2026-01-01,2026-02-01,development,1000,USD,upsell,,team\n"
    )
    ledger.costs.ingest_costs(costs)
    observations = tmp_path / "obs.csv"
    observations.write_text(
        "metric,period_start,period_end,group,phase,n,mean,sd,volume\n"
        "basket,2026-01-01,2026-02-01,treatment,after,50,99999999999999,4,999999999999999\n"
        "basket,2026-01-01,2026-02-01,control,after,50,0,4,\n"
    )
    ledger.outcomes.ingest_measures("observations", observations)
    [row] = ledger.outcomes.portfolio_report(parse_period("2026-01")).initiatives
    # effect x volume x value per unit, by hand in 80 digits: 9.99999999999989 x 10^43. The
    # report keeps a value this large to 28 significant digits (docs/costs.md).
    with localcontext() as exact:
        exact.prec = 80
        value = Decimal(99999999999999) * Decimal(999999999999999) * Decimal(LARGEST)
    with localcontext() as reports:
        reports.prec = 28
        significant = +value
    assert row.value == significant.quantize(Decimal("0.01"), ROUND_HALF_EVEN, WIDE)
    assert row.roi == pytest.approx(float(value / 1000), rel=1e-15)

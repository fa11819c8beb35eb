"""Organisation prices reprice exactly the calls they cover, and give them back when removed:
on a year of calls, two in every hour."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, ValidationError

MILLION = Decimal(1_000_000)
START = datetime(2025, 1, 1)
CALLS = 365 * 48  # every half hour of 2025


@pytest.fixture
def year(ledger: Ledger, tmp_path: Path) -> Ledger:
    path = tmp_path / "calls.csv"
    lines = ["event_id,timestamp,provider,model,input_tokens,output_tokens"]
    for n in range(CALLS):
        when = START + timedelta(minutes=30 * n)
        lines.append(
            f"c{n},{when:%Y-%m-%dT%H:%M:%SZ},openai,gpt-4o,{1000 + n % 7 * 100},{200 + n % 5 * 10}"
        )
    path.write_text("\n".join(lines) + "\n")
    assert ledger.costs.ingest_usage(path, "csv").rows_added == CALLS
    return ledger


def _costs(ledger: Ledger) -> dict[str, tuple[Decimal, str, str, datetime, int, int]]:
    rows = ledger.session.db.all(
        "SELECT event_key, computed_cost, price_source, computed_currency, ts, "
        "input_tokens, output_tokens FROM usage_events"
    )
    return {
        r["event_key"]: (
            r["computed_cost"],
            r["price_source"],
            r["computed_currency"],
            r["ts"],
            r["input_tokens"],
            r["output_tokens"],
        )
        for r in rows
    }


def _at(per_mtok_in: str, per_mtok_out: str, tokens_in: int, tokens_out: int) -> Decimal:
    return (tokens_in * Decimal(per_mtok_in) + tokens_out * Decimal(per_mtok_out)) / MILLION


def test_an_override_from_mid_year_reprices_only_the_calls_from_its_date(year: Ledger) -> None:
    before = _costs(year)
    total = sum(c[0] for c in before.values())
    # The catalogue's gpt-4o price all year: 2.50 USD in, 10 USD out per million tokens.
    assert all(c[0] == _at("2.50", "10", c[4], c[5]) for c in before.values())
    repriced = year.costs.prices.set_price(
        "gpt-4o", input_per_mtok=Decimal(2), output_per_mtok=Decimal(8), valid_from=date(2025, 7, 1)
    )
    assert repriced == 184 * 48  # 1 July to 31 December
    after = _costs(year)
    for key, (cost, source, currency, ts, tokens_in, tokens_out) in after.items():
        if ts < datetime(2025, 7, 1):
            assert (cost, source) == before[key][:2]  # to the last decimal
        else:
            assert (cost, source, currency) == (
                _at("2", "8", tokens_in, tokens_out),
                "override",
                "USD",
            )
    assert year.costs.prices.unset_price("gpt-4o", valid_from=date(2025, 7, 1)) == 184 * 48
    assert _costs(year) == before
    assert sum(Decimal(str(r.cost)) for r in year.costs.cost_report(["month"])) == total


def test_an_override_with_an_end_gives_the_later_calls_back(year: Ledger) -> None:
    before = _costs(year)
    repriced = year.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal(2),
        output_per_mtok=Decimal(8),
        valid_from=date(2025, 7, 1),
        valid_to=date(2025, 8, 1),
    )
    assert repriced == 31 * 48
    july = {k for k, c in before.items() if c[3].month == 7}
    after = _costs(year)
    assert {k for k, c in after.items() if c[1] == "override"} == july
    assert all(after[k] == before[k] for k in before if k not in july)


def test_a_later_override_ends_an_open_one_and_overlaps_are_refused(year: Ledger) -> None:
    rates = {"input_per_mtok": Decimal(2), "output_per_mtok": Decimal(8)}
    year.costs.prices.set_price("gpt-4o", valid_from=date(2025, 3, 1), **rates)
    year.costs.prices.set_price(
        "gpt-4o", valid_from=date(2025, 9, 1), **{**rates, "input_per_mtok": Decimal(1)}
    )
    listed = {o.valid_from: o for o in year.costs.prices.price_overrides()}
    assert listed[date(2025, 3, 1)].valid_to == date(2025, 9, 1)
    assert listed[date(2025, 9, 1)].valid_to is None
    # beside each override, the catalogue's price of the model on its first day
    march = listed[date(2025, 3, 1)]
    assert (march.catalogue_input_per_mtok, march.catalogue_output_per_mtok) == (2.5, 10)
    with pytest.raises(ValidationError) as refused:
        year.costs.prices.set_price(
            "gpt-4o", valid_from=date(2025, 8, 1), valid_to=date(2025, 10, 1), **rates
        )
    assert "overlaps the price from 2025-03-01 to 2025-09-01" in str(refused.value)
    with pytest.raises(NotFound):
        year.costs.prices.unset_price("gpt-4o", valid_from=date(2025, 4, 1))


def test_an_override_scoped_to_another_provider_leaves_these_calls_alone(year: Ledger) -> None:
    before = _costs(year)
    assert (
        year.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal(2),
            output_per_mtok=Decimal(8),
            valid_from=date(2025, 1, 1),
            provider="azure.ai.openai",
        )
        == 0
    )
    assert _costs(year) == before
    assert year.costs.prices.price_overrides()[0].provider == "azure"


def test_an_override_in_another_currency_is_converted_in_reports(
    year: Ledger, tmp_path: Path
) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("valid_from,from_currency,to_currency,rate\n2025-01-01,EUR,USD,1.10\n")
    year.costs.ingest_rates(rates)
    year.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal(2),
        output_per_mtok=Decimal(8),
        valid_from=date(2025, 12, 1),
        currency="EUR",
    )
    december = [c for c in _costs(year).values() if c[3].month == 12]
    assert {(c[1], c[2]) for c in december} == {("override", "EUR")}
    eur = sum(c[0] for c in december)
    [row] = year.costs.cost_report(["month"], start=date(2025, 12, 1))
    assert row.cost == (eur * Decimal("1.10")).quantize(Decimal("1e-10"))


def test_bad_prices_are_refused_naming_the_field(year: Ledger) -> None:
    with pytest.raises(ValidationError) as refused:
        year.costs.prices.set_price(
            "gpt-4o",
            input_per_mtok=Decimal(-1),
            output_per_mtok=Decimal(8),
            valid_from=date(2025, 7, 1),
            valid_to=date(2025, 6, 1),
            currency="euro",
        )
    wheres = [p.where for p in refused.value.problems]
    assert wheres == ["input_per_mtok", "currency", "valid_to"]
    assert year.costs.prices.price_overrides() == []


def test_an_override_touches_no_call_outside_its_days(year: Ledger) -> None:
    # A call priced by another catalogue (an older genai-prices, say) keeps its price when an
    # override of other days is set or removed.
    kept = ("c0", "c9000")  # 1 January and 7 July
    marked = "UPDATE usage_events SET computed_cost = 1 WHERE event_key IN (?, ?)"
    year.session.db.execute(marked, list(kept))
    year.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal(2),
        output_per_mtok=Decimal(8),
        valid_from=date(2025, 3, 1),
        valid_to=date(2025, 4, 1),
    )
    year.costs.prices.unset_price("gpt-4o", valid_from=date(2025, 3, 1))
    costs = _costs(year)
    assert [costs[key][0] for key in kept] == [1, 1]

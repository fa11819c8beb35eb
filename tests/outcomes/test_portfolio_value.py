"""The portfolio's value, worked out by hand on two initiatives: the interval of the sum from
the variances added (never the sum of the lower bounds), ROI on all the spend, that of no
initiative included; and a contributor's, on the spend of the business units they may see."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from scipy import stats as scipy_stats

from valuegap import Ledger
from valuegap.outcomes.periods import parse_period

from ..conftest import SteppingClock

CENT = Decimal("0.01")


@pytest.fixture
def clock() -> SteppingClock:
    # The portfolio and its agreed methods are recorded before the first period measured.
    return SteppingClock(datetime(2025, 11, 1, 9, 0))


def _initiative(ledger: Ledger, name: str, unit: str, value_per_unit: int) -> None:
    ledger.portfolio.add_initiative({
        "id": name, "name": name.title(), "kind": "use_case", "business_unit": unit,
        "metrics": [{"id": f"{name}-m", "name": "M", "unit": "u", "direction": "increase",
                     "value_per_unit": value_per_unit, "currency": "USD",
                     "method": "before_after"}],
    })  # fmt: skip
    ledger.portfolio.agree_metric(f"{name}-m", by="Fin")


@pytest.fixture
def two_initiatives(ledger: Ledger, tmp_path: Path) -> Ledger:
    """Service's measured 104 against 100 (1,000 USD a unit), sales' 52 against 50 (500 USD),
    each group of 10 with sd 10; January's spend: 6,000 service, 2,000 sales, and 2,000 of
    the platform unit's, no initiative's."""
    _initiative(ledger, "service-agent", "service", 1000)
    _initiative(ledger, "sales-agent", "sales", 500)
    observations = tmp_path / "observations.csv"
    observations.write_text(
        "metric,period_start,period_end,group,phase,n,mean,sd,sum,sum_sq\n"
        "service-agent-m,2025-12-01,2026-01-01,all,before,10,100,10,,\n"
        "service-agent-m,2026-01-01,2026-02-01,all,after,10,104,10,,\n"
        "sales-agent-m,2025-12-01,2026-01-01,all,before,10,50,10,,\n"
        "sales-agent-m,2026-01-01,2026-02-01,all,after,10,52,10,,\n"
    )
    ledger.outcomes.ingest_measures("observations", observations)
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,description\n"
        "2026-01-01,2026-02-01,development,6000,USD,service-agent,,agent team\n"
        "2026-01-01,2026-02-01,development,2000,USD,sales-agent,,prompt team\n"
        "2026-01-01,2026-02-01,operations,2000,USD,,platform,shared platform\n"
    )
    ledger.costs.ingest_costs(costs)
    return ledger


def _cents(value: float) -> Decimal:
    return Decimal(value).quantize(CENT)


def test_the_value_of_two_initiatives_adds_their_variances(two_initiatives: Ledger) -> None:
    value = two_initiatives.outcomes.portfolio_value(parse_period("2026-01"))
    # Service: (104 - 100) x 1,000 = 4,000; each mean's variance 10^2 / 10 = 10, so the
    # value's is 1,000^2 x (10 + 10) = 20,000,000. Sales: (52 - 50) x 500 = 1,000, variance
    # 500^2 x 20 = 5,000,000. The sum: 5,000 with variance 25,000,000, a standard error of
    # 5,000; Welch-Satterthwaite dof = 25e6^2 / ((2 x 1e7^2 + 2 x 2.5e6^2) / 9) = 26.47.
    dof = 25e6**2 / ((2 * 1e7**2 + 2 * 2.5e6**2) / 9)
    half = float(scipy_stats.t.ppf(0.975, dof)) * math.sqrt(25e6)  # 10,261.6
    assert value.value == 5000
    assert value.value_low == _cents(5000 - half)
    assert value.value_high == _cents(5000 + half)
    # Not the sum of the lower bounds: each 4,000 - t18 x 4,472.1 and 1,000 - t18 x 1,118.0.
    t18 = float(scipy_stats.t.ppf(0.975, 18))
    assert value.value_low > _cents(5000 - t18 * (math.sqrt(2e7) + math.sqrt(5e6)))
    # ROI on all 10,000 of the spend, the platform's included: (5,000 - 10,000) / 10,000.
    assert value.total_cost == 10000
    assert value.roi == -0.5
    assert value.roi_conservative == round((5000 - half - 10000) / 10000, 4)


def test_a_contributors_value_is_on_the_spend_of_their_units(two_initiatives: Ledger) -> None:
    two_initiatives.governance.users.add_user("sam", "contributor", ["service"])
    sam = two_initiatives.acting_as("sam")
    value = sam.outcomes.portfolio_value(parse_period("2026-01"))
    # Service's alone: 4,000 with variance 20,000,000 and dof 20e6^2 / (2 x 1e7^2 / 9) = 18,
    # on service's 6,000 of spend: ROI (4,000 - 6,000) / 6,000 = -33.33%, as its own report.
    half = float(scipy_stats.t.ppf(0.975, 18)) * math.sqrt(2e7)  # 9,395.6
    assert (value.value, value.total_cost) == (4000, 6000)
    assert value.value_low == _cents(4000 - half)
    assert value.roi == -0.3333
    own = sam.outcomes.initiative_report("service-agent", parse_period("2026-01"))
    assert (value.roi, value.roi_conservative) == (own.roi, own.roi_conservative)
    # The portfolio report agrees: service's unit alone, all of its cost.
    report = sam.outcomes.portfolio_report(parse_period("2026-01"))
    assert report.total_cost == 6000
    assert [unit.business_unit for unit in report.business_units] == ["service"]

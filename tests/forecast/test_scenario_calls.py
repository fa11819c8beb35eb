"""A scenario counts an initiative's own calls, allocated as the cost report allocates them
(issue 18, item 6): two initiatives on one model with different token mixes are not blended,
and a call a split rule divides 60/40 counts 0.6 and 0.4.

The ledger: December 2025 (31 days) on openai's gpt-4o (genai-prices: 2.50 input, 1.25 cached
input, 10 output per million tokens; no cache-write or reasoning price of its own, so those
tokens cost what input and output tokens cost) and gpt-4o-mini (0.15, 0.075 and 0.60):

- `alpha` (rule on its API key): 1 call a day, 31 calls, each 1,000 input tokens (200 of them
  cache reads) and 100 output: per call 800 x 2.50 + 200 x 1.25 + 100 x 10 = 3,250 per
  million = 0.00325; the month 31 x 0.00325 = 0.10075. It has 5,000 USD of people (fixed).
- `beta` (rule on its team): 2 calls a day, 62 calls, each 10,000 input (1,000 of them cache
  writes) and 2,000 output (500 of them reasoning): per call 10,000 x 2.50 + 2,000 x 10 =
  45,000 per million = 0.045; the month 62 x 0.045 = 2.79.
- one call on a shared key, 1,000 input and 500 output, split 60/40 between `gamma` and
  `delta`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ready
from valuegap import Ledger
from valuegap.costs.calls import InitiativeCalls
from valuegap.forecast.scenario import ScenarioChanges
from valuegap.outcomes.scenarios import Scenario

DECEMBER = date(2025, 12, 1)
RULES = """rules:
  - {id: alpha, match: {api_key: key-alpha}, initiative: alpha}
  - {id: beta, match: {team: team-beta}, initiative: beta}
  - id: shared
    match: {api_key: key-shared}
    split: {method: fixed, shares: {gamma: 0.6, delta: 0.4}}
"""
HEADER = (
    "event_id,timestamp,provider,model,input_tokens,output_tokens,cache_read_tokens,"
    "cache_write_tokens,reasoning_tokens,api_key,team\n"
)


@pytest.fixture
def shared(ledger: Ledger, tmp_path: Path) -> Ledger:
    for name in ("alpha", "beta", "gamma", "delta"):
        ledger.portfolio.add_initiative(ready(name))
    rows = []
    for day in range(1, 32):
        when = f"2025-12-{day:02d}T09:00:00Z"
        rows.append(f"a{day},{when},openai,gpt-4o,1000,100,200,0,0,key-alpha,\n")
        for n in range(2):
            rows.append(
                f"b{day}-{n},{when},openai,gpt-4o,10000,2000,0,1000,500,key-beta,team-beta\n"
            )
    rows.append("s1,2025-12-15T09:00:00Z,openai,gpt-4o,1000,500,0,0,0,key-shared,\n")
    (tmp_path / "usage.csv").write_text(HEADER + "".join(rows))
    (tmp_path / "costs.csv").write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,"
        "description,fte,rate_per_month\n"
        "2025-12-01,2026-01-01,development,5000,USD,alpha,,One engineer,,\n"
    )
    (tmp_path / "rules.yaml").write_text(RULES)
    ledger.costs.ingest_usage(tmp_path / "usage.csv", "csv")
    ledger.costs.ingest_costs(tmp_path / "costs.csv")
    ledger.costs.apply_rules(tmp_path / "rules.yaml")
    return ledger


def _scenario(ledger: Ledger, initiative: str, **changes: str) -> Scenario:
    return ledger.outcomes.scenarios.scenario(initiative, ScenarioChanges.parse(**changes))


def _calls(initiative: str, *counts: str) -> InitiativeCalls:
    return InitiativeCalls("openai", "gpt-4o", *(Decimal(n) for n in counts), initiative=initiative)


def test_each_initiative_counts_its_own_calls_of_a_shared_model(shared: Ledger) -> None:
    # input, output, cache read, cache write, reasoning, requests
    assert shared.costs.calls_by_initiative(DECEMBER) == [
        _calls("alpha", "31000", "3100", "6200", "0", "0", "31"),
        _calls("beta", "620000", "124000", "0", "62000", "31000", "62"),
        _calls("delta", "400", "200", "0", "0", "0", "0.4"),
        _calls("gamma", "600", "300", "0", "0", "0", "0.6"),
    ]
    alpha, beta = _scenario(shared, "alpha"), _scenario(shared, "beta")
    assert (alpha.window, alpha.requests, alpha.inference_cost) == (
        "2025-12",
        31,
        Decimal("0.10075"),
    )
    assert (beta.requests, beta.inference_cost) == (62, Decimal("2.79"))


def test_volume_times_1000_multiplies_inference_cost_and_leaves_fixed_cost(shared: Ledger) -> None:
    alpha = _scenario(shared, "alpha", volume="1000/day")  # 1 a day observed: x1,000
    assert alpha.volume_factor == 1000
    assert alpha.inference_cost == alpha.baseline_inference_cost * 1000 == Decimal("100.75")
    assert alpha.fixed_cost == Decimal(5000) == _scenario(shared, "alpha").fixed_cost
    beta = _scenario(shared, "beta", volume="2000/day")  # 2 a day observed: x1,000
    assert beta.volume_factor == 1000
    assert beta.inference_cost == Decimal("2790")  # 2.79 x 1,000
    assert beta.fixed_cost == 0


def test_a_model_switch_prices_each_initiatives_calls_at_the_other_models_prices(
    shared: Ledger,
) -> None:
    # alpha, per call: 800 x 0.15 + 200 x 0.075 + 100 x 0.60 = 195 per million; x 31
    alpha = _scenario(shared, "alpha", model="gpt-4o-mini")
    assert alpha.inference_cost == Decimal("0.006045")
    assert alpha.baseline_inference_cost == Decimal("0.10075")
    # beta, per call: 10,000 x 0.15 + 2,000 x 0.60 = 2,700 per million; x 62
    assert _scenario(shared, "beta", model="gpt-4o-mini").inference_cost == Decimal("0.1674")
    # and at x1,000: 6.045
    both = _scenario(shared, "alpha", model="gpt-4o-mini", volume="1000/day")
    assert both.inference_cost == Decimal("6.045")


def test_a_call_split_60_40_counts_six_tenths_and_four_tenths(shared: Ledger) -> None:
    gamma, delta = _scenario(shared, "gamma"), _scenario(shared, "delta")
    assert (gamma.requests, delta.requests) == (Decimal("0.6"), Decimal("0.4"))
    # The call: 1,000 x 2.50 + 500 x 10 = 7,500 per million = 0.0075; 0.6 and 0.4 of it
    assert gamma.inference_cost == Decimal("0.0045")
    assert delta.inference_cost == Decimal("0.003")
    # 0.6 of a call observed in the month; 600 a month: x1,000
    assert _scenario(shared, "gamma", volume="600/month").inference_cost == Decimal("4.5")


def test_the_demos_code_review_poc_counts_its_own_3000_calls(demo: Path) -> None:
    """June 2026: code review's PoC (its rule: the API key code-review-ci) made 100 calls a
    day, 3,000, of 18,000 + 500 x (k mod 5) input tokens (k = 0..99: 19,000 on average) and
    1,200 output tokens on claude-sonnet-4-5 (3 and 15 USD per million); loc-qa made 120 calls
    of the same model with another mix. Per call 19,000 x 3 + 1,200 x 15 = 75,000 per million
    = 0.075."""
    june = date(2026, 6, 1)
    with Ledger.open(demo, actor="you") as ledger:
        calls = {c.initiative: c for c in ledger.costs.calls_by_initiative(june)}
        scenarios = ledger.outcomes.scenarios
        production = scenarios.saved_scenario("code-review-in-production")
        haiku = scenarios.saved_scenario("code-review-in-production-on-haiku")
    review, loc_qa = calls["code-review"], calls["loc-qa"]
    assert (review.model, review.requests) == ("claude-sonnet-4-5", 3_000)
    assert (review.input_tokens, review.output_tokens) == (57_000_000, 3_600_000)
    assert (loc_qa.model, loc_qa.requests) == ("claude-sonnet-4-5", 120)
    assert (loc_qa.input_tokens, loc_qa.output_tokens) == (7_200_000, 1_080_000)
    assert (production.window, production.requests) == ("2026-06", 3_000)
    assert production.baseline_inference_cost == Decimal("225")  # 3,000 x 0.075
    # 100,000 a day x 30 days = 3,000,000 calls, x 0.075
    assert production.inference_cost == Decimal("225000")
    # claude-haiku-4-5 (1 and 5 USD per million): 19,000 x 1 + 1,200 x 5 = 25,000 per
    # million = 0.025 a call, x 3,000,000 calls
    assert haiku.inference_cost == Decimal("75000")
    assert production.fixed_cost == haiku.fixed_cost == Decimal("12000")

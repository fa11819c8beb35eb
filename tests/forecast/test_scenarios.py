"""Adaptive ROI scenarios: a PoC's month of usage repriced under changes (issue 18, item 6).

The ledger: initiative `bot` makes 100 calls a day in December 2025 (31 days, 3,100 calls),
each of 1,000 input and 200 output tokens of openai's gpt-4o, and has 5,000 USD a month of
people (fixed cost). The catalogue prices gpt-4o at 2.50 input and 10 output per million
tokens, and gpt-4o-mini at 0.15 and 0.60.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ready
from valuegap import Ledger
from valuegap.errors import ValidationError
from valuegap.forecast.scenario import (
    ModelUsage,
    ScenarioChanges,
    Volume,
    inference_cost,
    volume_factor,
)
from valuegap.model.pricing import Rates

CALLS, INPUT, OUTPUT = 3_100, 1_000, 200
RULES = "rules:\n  - {id: bot, match: {tag.initiative: bot}, initiative: bot}\n"


@pytest.fixture
def poc(ledger: Ledger, tmp_path: Path) -> Ledger:
    ledger.portfolio.add_initiative(ready("bot"))
    spans = []
    for n in range(CALLS):
        when = datetime(2025, 12, 1 + n // 100, 9, tzinfo=UTC)
        attributes = {
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": INPUT,
            "gen_ai.usage.output_tokens": OUTPUT,
            "valuegap.initiative": "bot",
        }
        spans.append(
            json.dumps(
                {
                    "traceId": f"{n + 1:032x}",
                    "spanId": f"{n + 1:016x}",
                    "startTimeUnixNano": str(int(when.timestamp()) * 10**9),
                    "attributes": attributes,
                }
            )
        )
    (tmp_path / "spans.jsonl").write_text("\n".join(spans) + "\n")
    (tmp_path / "costs.csv").write_text(
        "period_start,period_end,category,amount,currency,initiative,business_unit,"
        "description,fte,rate_per_month\n"
        "2025-12-01,2026-01-01,development,5000,USD,bot,,One engineer,,\n"
    )
    (tmp_path / "rules.yaml").write_text(RULES)
    ledger.costs.ingest_usage(tmp_path / "spans.jsonl", "otel")
    ledger.costs.ingest_costs(tmp_path / "costs.csv")
    ledger.costs.apply_rules(tmp_path / "rules.yaml")
    return ledger


def _scenario(ledger: Ledger, **changes: str):  # type: ignore[no-untyped-def]
    return ledger.outcomes.scenarios.scenario("bot", ScenarioChanges.parse(**changes))


def test_the_baseline_is_the_month_priced_by_hand(poc: Ledger) -> None:
    found = _scenario(poc)
    # 3,100 x (1,000 x 2.50 + 200 x 10) / 1,000,000 = 3,100 x 0.0045 = 13.95
    assert found.window == "2025-12"
    assert found.baseline_inference_cost == found.inference_cost == Decimal("13.95")
    assert found.fixed_cost == Decimal(5000)
    assert found.requests == CALLS


def test_volume_times_1000_multiplies_inference_cost_and_leaves_fixed_cost(poc: Ledger) -> None:
    found = _scenario(poc, volume="100000/day")  # 100 a day observed: x1,000
    assert found.volume_factor == 1000
    assert found.inference_cost == found.baseline_inference_cost * 1000 == Decimal("13950")
    assert found.fixed_cost == Decimal(5000)
    assert _scenario(poc, volume="700000/week").inference_cost == Decimal("13950")
    assert _scenario(poc, volume="3100000/month").inference_cost == Decimal("13950")


def test_a_volume_change_moves_cost_not_the_business_cases_value(poc: Ledger) -> None:
    # 1,000 USD a month at full adoption, adopted in full from the first month (a ramp this
    # steep is at its ceiling by month 1, to a billionth): 36 x 1,000 = 36,000 over 36 months,
    # whatever the volume. The value is the business case's, and the scenario says so.
    case = {
        "currency": "USD",
        "monthly_investment": 5000,
        "monthly_value_at_full_adoption": 1000,
        "adoption_ramp": {"ceiling": 1, "midpoint_month": 0.5, "steepness": 50},
    }
    poc.portfolio.update_initiative("bot", ready("bot", business_case=case))
    found = _scenario(poc, volume="20000/day")  # 100 a day observed: x200
    assert found.inference_cost == Decimal("13.95") * 200
    assert found.value is not None and found.baseline_value is not None
    assert round(found.value, 2) == round(found.baseline_value, 2) == Decimal("36000.00")
    assert found.value_note == (
        "the business case's planned value, which a change of volume, tokens per request, "
        "token price or model does not move: they move cost"
    )
    slower = _scenario(poc, ramp="slower")
    assert slower.value_note is not None and slower.value_note.endswith(
        "; the slower ramp moves when it comes"
    )
    assert _scenario(poc).value_note is not None
    poc.portfolio.update_initiative("bot", ready("bot"))
    assert _scenario(poc).value_note is None  # no business case, no value


def test_a_model_switch_prices_with_the_other_models_catalogue_prices(poc: Ledger) -> None:
    found = _scenario(poc, model="gpt-4o-mini")
    # gpt-4o-mini: 0.15 input, 0.60 output per million tokens (genai-prices).
    # 3,100 x (1,000 x 0.15 + 200 x 0.60) / 1,000,000 = 3,100 x 0.00027 = 0.837
    assert found.inference_cost == Decimal("0.837")
    assert found.models[0].priced_as == "gpt-4o-mini"
    assert found.fixed_cost == Decimal(5000)


def test_token_price_minus_50_percent_halves_inference_cost(poc: Ledger) -> None:
    assert _scenario(poc, token_price="-50%").inference_cost == Decimal("6.975")


def test_changes_compose_as_documented(poc: Ledger) -> None:
    found = _scenario(
        poc, volume="100000/day", tokens_per_request="+20%", token_price="-50%", model="gpt-4o-mini"
    )
    # 0.837 (gpt-4o-mini) x 1,000 (volume) x 1.2 (tokens) x 0.5 (price) = 502.2
    assert found.inference_cost == Decimal("502.2")


def test_bad_changes_name_the_field_and_value(poc: Ledger) -> None:
    with pytest.raises(ValidationError) as error:
        ScenarioChanges.parse(volume="10/fortnight", token_price="half", ramp="sideways")
    found = {(p.where, p.value) for p in error.value.problems}
    assert found == {("volume", "10/fortnight"), ("token_price", "half"), ("ramp", "sideways")}
    with pytest.raises(ValidationError) as error:
        _scenario(poc, model="no-such-model")
    assert [(p.where, p.value) for p in error.value.problems] == [("model", "no-such-model")]


def test_a_saved_scenario_is_listed_compared_and_audited(poc: Ledger) -> None:
    scenarios = poc.outcomes.scenarios
    scenarios.save_scenario("production", "bot", ScenarioChanges.parse(volume="100000/day"))
    assert [(s.name, s.initiative, s.changes) for s in scenarios.scenarios()] == [
        ("production", "bot", "volume 100000/day")
    ]
    rows = scenarios.compare_scenarios(["production"])
    assert [(r.name, r.inference_cost, r.fixed_cost) for r in rows] == [
        (None, Decimal("13.95"), Decimal(5000)),
        ("production", Decimal("13950"), Decimal(5000)),
    ]
    assert "scenario.save" in {e.action for e in poc.governance.audit.audit_log()}
    with pytest.raises(ValidationError):
        scenarios.save_scenario("Bad Name", "bot", ScenarioChanges())


USAGE = ModelUsage("openai", "m", *(Decimal(n) for n in (1_000, 200, 100, 0, 50, 10)))
RATES = (
    Rates(-1, Decimal("2.5e-6"), Decimal("1e-5"), Decimal("1.25e-6"), None, None, Decimal("0.001")),
)
factors = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)


@settings(max_examples=50, deadline=None)
@given(factors, factors)
def test_scaling_by_a_then_b_is_scaling_by_a_times_b(a: Decimal, b: Decimal) -> None:
    none = ScenarioChanges()
    once = inference_cost(USAGE, RATES, none, Fraction(a * b))
    twice = inference_cost(USAGE, RATES, none, Fraction(a)) * b
    assert once == twice
    price = ScenarioChanges(token_price=a - 1)
    request_free = (Rates(-1, Decimal("2.5e-6"), Decimal("1e-5")),)
    assert inference_cost(USAGE, request_free, price, Fraction(b)) == inference_cost(
        USAGE, request_free, none, Fraction(a * b)
    )


def test_a_factor_without_end_as_a_decimal_prices_to_the_last_decimal() -> None:
    # 180 calls in June (30 days), of 19,250 input and 1,200 output tokens each, at 3 and 15
    # USD per million: 0.07575 a call. At 100,000 a day the factor is 3,000,000 / 180 = 16,666.6...
    # and the cost 3,000,000 x 0.07575 = 227,250 exactly, because it is divided last.
    tokens = (3_465_000, 216_000, 0, 0, 0)
    usage = ModelUsage("anthropic", "m", *(Decimal(n) for n in tokens), requests=Decimal(180))
    factor = volume_factor(Volume(Decimal(100_000), "day"), Decimal(180), 30)
    assert factor == Fraction(3_000_000, 180)
    rates = (Rates(-1, Decimal("3e-6"), Decimal("15e-6")),)
    assert inference_cost(usage, rates, ScenarioChanges(), factor) == Decimal("227250")


def test_a_contributor_lists_only_their_units_saved_scenarios(demo: Path) -> None:
    """The demo's saved scenarios are engineering's code review: finance sees them, and
    marketing's contributor none (another unit's initiative is as if it did not exist)."""
    with Ledger.open(demo, actor="finn.berg", read_only=True) as finance:
        assert {s.initiative for s in finance.outcomes.scenarios.scenarios()} == {"code-review"}
    with Ledger.open(demo, actor="ana.costa", read_only=True) as contributor:
        assert contributor.outcomes.scenarios.scenarios() == []


def test_a_scenario_keeps_its_name_from_another_initiatives(demo_copy: Path) -> None:
    """Saving replaces a scenario of the same name of the same initiative only: a contributor
    cannot overwrite another unit's saved scenario by taking its name."""
    with Ledger.open(demo_copy, actor="ana.costa") as contributor:
        scenarios = contributor.outcomes.scenarios
        taken = "code-review-in-production"  # engineering's
        with pytest.raises(ValidationError, match="another initiative's scenario"):
            scenarios.save_scenario(taken, "loc-qa", ScenarioChanges())
        scenarios.save_scenario("loc-qa-2x", "loc-qa", ScenarioChanges())
        doubled = ScenarioChanges.parse(volume="2000/day")
        scenarios.save_scenario("loc-qa-2x", "loc-qa", doubled)  # its own: replaced
        finance = contributor.acting_as("finn.berg").outcomes.scenarios.scenarios()
        saved = {s.name: (s.initiative, s.changes) for s in finance}
        assert saved["loc-qa-2x"] == ("loc-qa", "volume 2000/day")
        assert saved[taken][0] == "code-review"

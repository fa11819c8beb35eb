from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.errors import ValidationError
from valuegap.model.portfolio import InitiativeSpec
from valuegap.portfolio.portfolio_file import dump_portfolio, parse_portfolio

MINIMAL = """
initiatives:
  - id: a
    name: A
    kind: use_case
    business_unit: ops
    metrics:
      - id: m
        name: M
        unit: hours
        direction: decrease
        baseline: {value: 40, period: 2025}
        value_per_unit: VPU
        currency: USD
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_portfolio(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_example_file_parses(example_portfolio: Path) -> None:
    portfolio = parse_portfolio(example_portfolio.read_text(), str(example_portfolio))
    assert [i.id for i in portfolio.initiatives] == ["loc-qa", "doc-classifier", "refund-agent"]
    assert sum(len(i.metrics) for i in portfolio.initiatives) == 4


def test_numbers_are_exact_decimals_never_floats() -> None:
    portfolio = parse_portfolio(MINIMAL.replace("VPU", "0.1"), "p.yaml")
    metric = portfolio.initiatives[0].metrics[0]
    assert metric.value_per_unit == Decimal("0.1")
    assert metric.value_per_unit + Decimal("0.2") == Decimal("0.3")


def test_every_problem_is_listed_with_path_value_and_what_is_allowed() -> None:
    text = """
initiatives:
  - name: No id
    kind: use_case
    business_unit: ops
  - id: b
    name: B
    kind: use_case
    business_unit: ops
    metrics:
      - id: m
        name: M
        unit: hours
        direction: up
        target: lots
"""
    found = problems(text)
    assert found == [
        "initiatives[0].id: is required but missing",
        "initiatives[1] (b).metrics[0] (m).direction: Input should be 'increase' or 'decrease'"
        " (found 'up')",
        "initiatives[1] (b).metrics[0] (m).target: must be a number (found 'lots')",
    ]


def test_quoted_number_is_a_mistake() -> None:
    assert problems(MINIMAL.replace("VPU", '"85"')) == [
        "initiatives[0] (a).metrics[0] (m).value_per_unit: must be a number (found '85')"
    ]


def test_unknown_field_lists_the_known_ones() -> None:
    text = MINIMAL.replace("VPU", "85").replace(
        "    kind: use_case", "    kind: use_case\n    teem: x"
    )
    [problem] = problems(text)
    assert problem.startswith("initiatives[0] (a).teem: is not a known field here")
    assert "business_unit" in problem


def test_stage_is_not_set_by_a_file() -> None:
    text = MINIMAL.replace("VPU", "85").replace(
        "    kind: use_case", "    kind: use_case\n    stage: mvp"
    )
    [problem] = problems(text)
    assert "move stages with `Ledger.governance.gates.advance()`" in problem


def test_yaml_syntax_error_names_the_line() -> None:
    [problem] = problems("initiatives:\n  - id: a\n    name: [unclosed\n")
    assert problem.startswith("p.yaml, line 4")


def test_duplicate_ids_are_refused() -> None:
    text = MINIMAL.replace("VPU", "85") + MINIMAL.replace("VPU", "85").split("initiatives:\n")[1]
    found = problems(text)
    assert found == [
        "initiatives[1].id: is already used by initiatives[0] (found 'a')",
        "initiatives[1].metrics[0].id: is already used by initiatives[0].metrics[0] "
        "(metric ids are unique) (found 'm')",
    ]


def test_too_many_decimal_places_is_refused_rather_than_rounded() -> None:
    [problem] = problems(MINIMAL.replace("VPU", "0.12345678901"))
    assert "value_per_unit" in problem and "10 decimal places" in problem


def test_agreement_needs_both_fields() -> None:
    text = MINIMAL.replace("VPU", "85") + "        method: direct\n        agreed_by: Finn\n"
    [problem] = problems(text)
    assert "agreed_by and agreed_at go together" in problem


decimals = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False
)


@given(value=decimals)
def test_export_then_parse_is_exact(value: Decimal) -> None:
    spec = parse_portfolio(MINIMAL.replace("VPU", "1"), "p.yaml").initiatives[0]
    metric = spec.metrics[0].model_copy(update={"value_per_unit": value, "target": value})
    spec = spec.model_copy(update={"metrics": [metric]})
    again = parse_portfolio(dump_portfolio([spec]), "export").initiatives[0]
    assert again == InitiativeSpec.model_validate(spec.model_dump())
    assert again.metrics[0].value_per_unit == value


@pytest.mark.parametrize("spelled", [".nan", ".inf", "-.Inf"])
def test_a_number_that_is_not_finite_is_refused_naming_its_line(spelled: str) -> None:
    from valuegap.portfolio.portfolio_file import parse_portfolio

    text = (
        "initiatives:\n  - id: b\n    name: B\n    kind: use_case\n    business_unit: ops\n"
        f"    metrics: [{{id: bm, name: B, unit: u, direction: increase, value_per_unit: "
        f"{spelled}, currency: USD}}]\n"
    )
    with pytest.raises(ValidationError) as refused:
        parse_portfolio(text, "p.yaml")
    [problem] = refused.value.problems
    assert problem.where.startswith("p.yaml, line 6, column ")
    assert problem.message == f"{spelled} is not a finite number: give an amount"


CASE = """
    business_case:
      currency: USD
      monthly_investment: 1000
      monthly_value_at_full_adoption: 3000
      adoption_ramp: {ceiling: 1, midpoint_month: 2, steepness: 1}
"""


def test_a_business_case_band_is_a_share_from_0_to_1_by_default_0_2() -> None:
    text = MINIMAL.replace("    metrics:", CASE.strip("\n") + "\n    metrics:").replace("VPU", "1")
    case = parse_portfolio(text, "p.yaml").initiatives[0].business_case
    assert case is not None and case.band == 0.2
    banded = text.replace("steepness: 1}", "steepness: 1}\n      band: 0.35")
    case = parse_portfolio(banded, "p.yaml").initiatives[0].business_case
    assert case is not None and case.band == 0.35
    assert problems(banded.replace("0.35", "1.5")) == [
        "initiatives[0] (a).business_case.band: Input should be less than or equal to 1 "
        "(found '1.5')"
    ]


def test_a_stored_band_is_read_back(ledger: Ledger) -> None:
    text = MINIMAL.replace("    metrics:", CASE.strip("\n") + "\n      band: 0.05\n    metrics:")
    ledger.portfolio.apply(parse_portfolio(text.replace("VPU", "1"), "p.yaml"))
    case = ledger.portfolio.initiative("a").business_case
    assert case is not None and case.band == 0.05

"""The store reads initiatives and metrics back without validating them again
(``store.portfolio._stored``): what it reads must be what validation would have made of the
same values, type for type, or a report would compare a str with a Decimal."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ready
from valuegap.ledger import Ledger
from valuegap.model.portfolio import Initiative, InitiativeSpec


def _fields(value: Any) -> Any:
    """A model's field values as plain data, nested models included, excluded fields too."""
    if isinstance(value, pydantic.BaseModel):
        return {name: _fields(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list):
        return [_fields(item) for item in value]
    return value


def _assert_same(read: Any, validated: Any, where: str) -> None:
    assert type(read) is type(validated), (where, read, validated)
    if isinstance(read, pydantic.BaseModel):
        for name in type(read).model_fields:
            _assert_same(getattr(read, name), getattr(validated, name), f"{where}.{name}")
    elif isinstance(read, list):
        assert len(read) == len(validated), where
        for index, (a, b) in enumerate(zip(read, validated, strict=True)):
            _assert_same(a, b, f"{where}[{index}]")
    else:
        assert read == validated, (where, read, validated)


def _assert_as_validated(initiative: Initiative) -> None:
    _assert_same(initiative, Initiative.model_validate(_fields(initiative)), initiative.id)


def test_every_demo_initiative_reads_as_validation_makes_it(demo: Path) -> None:
    with Ledger.open(demo, actor="you", read_only=True) as ledger:
        initiatives = ledger.portfolio.initiatives()
        blocks = {
            name
            for initiative in initiatives
            for name in ("business_case", "poc_evaluation", "production_cost_estimate", "agent")
            if getattr(initiative, name) is not None
        }
        assert blocks == {"business_case", "poc_evaluation", "production_cost_estimate", "agent"}
        assert any(m.baseline and m.agreed_at for i in initiatives for m in i.metrics)
        for initiative in initiatives:
            _assert_as_validated(initiative)


amounts = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False
)
shares = st.floats(min_value=0.01, max_value=1) | st.integers(min_value=1, max_value=1)
positive = st.floats(min_value=0.1, max_value=48) | st.integers(min_value=1, max_value=48)


_numbers = itertools.count()


@st.composite
def initiative_files(draw: st.DrawFn) -> Callable[[str], dict[str, Any]]:
    """An initiative as a portfolio file may give it (numbers as ints, floats or decimals),
    given its id."""
    case = {
        "currency": "EUR",
        "monthly_investment": draw(amounts),
        "monthly_value_at_full_adoption": draw(amounts),
        "adoption_ramp": {
            "ceiling": draw(shares),
            "midpoint_month": draw(positive),
            "steepness": draw(positive),
        },
        "band": draw(st.floats(min_value=0, max_value=1) | st.just(0)),
    }
    metric = {
        "name": " Handled ",
        "unit": "cases",
        "direction": draw(st.sampled_from(["increase", "decrease"])),
        "baseline": draw(st.none() | st.builds(dict, value=amounts, period=st.just(2025))),
        "target": draw(st.none() | amounts | st.integers(-5, 5)),
        "value_per_unit": draw(amounts),
        "currency": "EUR",
        "primary": draw(st.sampled_from([None, True])),  # false is stored as not primary: None
    }
    return lambda initiative_id: ready(
        initiative_id,
        business_case=draw(st.none() | st.just(case)),
        poc_evaluation={
            "representative_data": draw(st.booleans()),
            "evaluated_by": "Ops",
            "independent_of_builders": True,
            "accuracy": draw(shares | st.just(0)),
            "sample_size": draw(st.integers(1, 10**6)),
        },
        production_cost_estimate={"currency": "EUR", "monthly": draw(amounts | st.integers(0, 9))},
        metrics=[{"id": f"{initiative_id}-m", **metric}],
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(made=initiative_files())
def test_an_initiative_reads_back_as_validation_makes_it(
    ledger: Ledger, made: Callable[[str], dict[str, Any]]
) -> None:
    initiative_id = f"i-{next(_numbers)}"
    spec = InitiativeSpec.model_validate(made(initiative_id))
    ledger.portfolio.add_initiative(spec)
    read = ledger.portfolio.initiative(initiative_id)
    _assert_as_validated(read)
    assert _fields(read.spec()) == _fields(spec)

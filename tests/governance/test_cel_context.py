"""A thread's CEL context is kept between decisions, and only the names whose values changed
are converted again (``policy._converted``): every rule must still see exactly the values of
its own decision."""

from __future__ import annotations

import threading
from typing import Any

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.governance.policy import _converted, evaluate_condition

PROGRAMS = [
    cel.compile(expression)
    for expression in (
        "a == 1",
        "a == true",
        "a + 1 == 2",
        "a + 1.0 == 2.0",
        "b.x == 'x' && b.n > 2",
        "size(c) == 2",
        "'y' in c",
        "has(b.x)",
    )
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0]),
    st.sampled_from(["x", "y", ""]),
)
values = st.fixed_dictionaries(
    {
        "a": scalars,
        "b": st.dictionaries(st.sampled_from(["x", "n"]), scalars, max_size=2),
        "c": st.lists(st.sampled_from(["x", "y"]), max_size=3),
    },
    optional={"d": scalars},
)


def outcomes(context: cel.Context | dict[str, Any]) -> list[tuple[bool, str | None]]:
    return [evaluate_condition(program, context) for program in PROGRAMS]


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=1, max_size=8))
def test_each_decision_sees_its_own_values_as_a_new_context_would(
    decisions: list[dict[str, Any]],
) -> None:
    for each in decisions:
        assert outcomes(_converted(each)) == outcomes(cel.Context(each))


def test_one_is_not_true_nor_one_point_zero_after_it() -> None:
    # 1 == True == 1.0 in Python; in CEL they are an int, a bool and a double
    assert outcomes(_converted({"a": 1, "b": {}, "c": []}))[:4] == [
        (True, None),
        (False, None),
        (True, None),
        outcomes(cel.Context({"a": 1}))[3],
    ]
    for changed in (True, 1.0, 1):
        context = {"a": changed, "b": {}, "c": []}
        assert outcomes(_converted(context)) == outcomes(cel.Context(context))


def test_each_thread_has_its_own() -> None:
    seen: dict[str, list[tuple[bool, str | None]]] = {}

    def decide(name: str, a: object) -> None:
        for _ in range(200):
            seen[name] = outcomes(_converted({"a": a, "b": {"x": name, "n": 3}, "c": [name]}))

    threads = [threading.Thread(target=decide, args=(n, a)) for n, a in (("x", 1), ("y", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["x"] == outcomes(cel.Context({"a": 1, "b": {"x": "x", "n": 3}, "c": ["x"]}))
    assert seen["y"] == outcomes(cel.Context({"a": 2, "b": {"x": "y", "n": 3}, "c": ["y"]}))


def test_a_value_cel_cannot_take_leaves_nothing_half_converted() -> None:
    _converted({"a": 1, "b": {"x": "x", "n": 3}, "c": []})
    with pytest.raises(ValueError, match="convert"):  # b was converted again, c could not be
        _converted({"a": 1, "b": {"x": "y", "n": 3}, "c": frozenset()})
    # b as it was before: a context that kept the failed call's b would hold "y"
    again = {"a": 1, "b": {"x": "x", "n": 3}, "c": []}
    assert outcomes(_converted(again)) == outcomes(cel.Context(again))

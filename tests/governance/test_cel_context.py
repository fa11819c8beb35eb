"""A thread keeps its CEL context for a rule set between decisions (``policy._Converted``): it
converts again only the names whose values changed and evaluates again only the rules that
read one of them. Every rule must still come out exactly as on a context made afresh for its
own decision."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.governance.names import pruned
from valuegap.governance.policy import (
    Policy,
    Rule,
    RuleSet,
    _applicable,
    _Converted,
    evaluate_condition,
    filled,
)

# (expression, what it reads, its message)
CONDITIONS = [
    ("a == 1", {("a",)}, "a is not 1"),
    ("a == true", {("a",)}, "a is not true"),
    ("a + 1 == 2", {("a",)}, "a + 1 is not 2"),
    ("a + 1.0 == 2.0", {("a",)}, "a + 1.0 is not 2.0"),
    ("b.x == 'x' && b.n > 2", {("b", "x"), ("b", "n")}, "b is {b.x} and {b.n}"),
    ("size(c) == 2", {("c",)}, "c has not two items"),
    ("'y' in c", {("c",)}, "no y in c"),
    ("has(b.x)", {("b", "x")}, "b has no x"),
]


def rule_set(
    conditions: list[tuple[str, set[tuple[str, ...]], str]] = CONDITIONS,
    compile: Any = cel.compile,
) -> RuleSet:
    rules = tuple(
        Rule(f"rule-{n}", "action", "*", expr, "deny", message, compile(expr), frozenset(paths))
        for n, (expr, paths, message) in enumerate(conditions)
    )
    initiative = SimpleNamespace(id="agent", business_unit="unit")
    return _applicable([Policy("enterprise", None, rules, 1)], initiative, "action", "act")


RULES = rule_set()


def afresh(context: dict[str, Any]) -> list[tuple[bool, str | None, str]]:
    """Each rule on a CEL context made for what the rules read of ``context`` alone, and its
    message as filled."""
    converted = cel.Context(pruned(context, RULES.plan))
    return [
        (*evaluate_condition(rule.program, converted), filled(rule.message, context))
        for _, rule in RULES.rules
    ]


def kept(context: dict[str, Any]) -> list[tuple[bool, str | None, str]]:
    return [(r.held, r.error, r.message) for r in _Converted.of(RULES).results(context)]


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
        "b": st.dictionaries(st.sampled_from(["x", "n", "unread"]), scalars, max_size=3),
        "c": st.lists(st.sampled_from(["x", "y"]), max_size=3),
    },
    optional={"d": scalars},
)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=1, max_size=8))
def test_each_decision_comes_out_as_on_a_context_made_afresh(
    decisions: list[dict[str, Any]],
) -> None:
    for each in decisions:
        assert kept(each) == afresh(each)


def test_one_is_not_true_nor_one_point_zero_after_it() -> None:
    # 1 == True == 1.0 in Python; in CEL they are an int, a bool and a double
    first = {"a": 1, "b": {}, "c": []}
    assert [held for held, _, _ in kept(first)[:4]] == [True, False, True, afresh(first)[3][0]]
    for changed in (True, 1.0, 1):
        context = {"a": changed, "b": {}, "c": []}
        assert kept(context) == afresh(context)


def test_a_value_the_rules_do_not_read_changes_nothing_and_is_not_converted() -> None:
    counted = _Counted(cel.compile("b.n > 2"))
    rules = rule_set([("b.n > 2", {("b", "n")}, "too small")], compile=lambda _: counted)
    converted = _Converted(rules)
    assert converted.results({"b": {"n": 3, "unread": 1}})[0].held
    converted.results({"b": {"n": 3, "unread": 2}})  # what it reads is as it was
    assert counted.executed == 1
    assert not converted.results({"b": {"n": 1, "unread": 2}})[0].held
    assert counted.executed == 2


def test_a_message_shows_the_values_of_its_own_decision() -> None:
    # rule 4 reads b; its message shows b.x and b.n, filled again whenever b changes
    for n in (3, 4, 3):
        context = {"a": 1, "b": {"x": "x", "n": n}, "c": []}
        assert kept(context)[4] == (True, None, f"b is x and {n}")


def test_each_thread_has_its_own() -> None:
    seen: dict[str, list[tuple[bool, str | None, str]]] = {}

    def decide(name: str, a: object) -> None:
        for _ in range(200):
            seen[name] = kept({"a": a, "b": {"x": name, "n": 3}, "c": [name]})

    threads = [threading.Thread(target=decide, args=(n, a)) for n, a in (("x", 1), ("y", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["x"] == afresh({"a": 1, "b": {"x": "x", "n": 3}, "c": ["x"]})
    assert seen["y"] == afresh({"a": 2, "b": {"x": "y", "n": 3}, "c": ["y"]})


def test_a_value_cel_cannot_take_leaves_nothing_half_converted() -> None:
    kept({"a": 1, "b": {"x": "x", "n": 3}, "c": []})
    with pytest.raises(ValueError, match="convert"):  # b was converted again, c could not be
        kept({"a": 1, "b": {"x": "y", "n": 3}, "c": frozenset()})
    # b as it was before: a context that kept the failed call's b would hold "y"
    again = {"a": 1, "b": {"x": "x", "n": 3}, "c": []}
    assert kept(again) == afresh(again)


class _Counted:
    """A compiled condition that counts its evaluations."""

    def __init__(self, program: Any) -> None:
        self._program = program
        self.executed = 0

    def execute(self, context: Any) -> object:
        self.executed += 1
        return self._program.execute(context)

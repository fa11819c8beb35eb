"""The disclosure partition: hand-built trees worked by hand, and its invariants on random ones."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.adoption.anonymity import Group, Partition, partition
from valuegap.errors import ValidationError
from valuegap.results import to_json

K = 5

# The issue's organisation (k = 5), people by unit (their own, not their sub-units'):
#
#   company 2
#   ├── sales 20
#   │   ├── sales-emea 4       a team of four
#   │   └── sales-us 12
#   ├── engineering 17
#   │   ├── platform 50
#   │   └── data 0
#   └── hr 3
#       └── payroll 1
#
# Bottom-up: sales-emea (4 < 5) rolls into sales: 20 + 4 = 24. sales-us 12 and platform 50
# stand alone. data has nobody: it shows nothing. engineering 17 stands alone. payroll (1)
# rolls into hr: 3 + 1 = 4 < 5, so hr rolls into company: 2 + 4 = 6 >= 5, a root that needs no
# complementary suppression. Total 2 + 20 + 4 + 12 + 17 + 50 + 0 + 3 + 1 = 109 = 6 + 24 + 12 +
# 17 + 50.
TREE: dict[str, str | None] = {
    "company": None,
    "sales": "company",
    "sales-emea": "sales",
    "sales-us": "sales",
    "engineering": "company",
    "platform": "engineering",
    "data": "engineering",
    "hr": "company",
    "payroll": "hr",
}
PEOPLE = {
    "company": 2,
    "sales": 20,
    "sales-emea": 4,
    "sales-us": 12,
    "engineering": 17,
    "platform": 50,
    "data": 0,
    "hr": 3,
    "payroll": 1,
}


def test_the_issue_organisation_by_hand() -> None:
    shown = partition(TREE, PEOPLE, K)
    assert shown.groups == (
        Group("company", 6, rolled_up=2),  # hr and payroll
        Group("engineering", 17, rolled_up=0),  # data has nobody: nothing rolled up
        Group("platform", 50, rolled_up=0),
        Group("sales", 24, rolled_up=1),  # the team of four
        Group("sales-us", 12, rolled_up=0),
    )
    assert shown.total == 109
    assert shown.suppressed == 0
    assert shown.group_of("sales-emea") == Group("sales", 24, rolled_up=1)
    assert shown.group_of("data") == Group("engineering", 17, rolled_up=0)


def _subtree(tree: Mapping[str, str | None], unit: str) -> set[str]:
    below = {unit}
    while grown := {child for child, parent in tree.items() if parent in below} - below:
        below |= grown
    return below


def _outputs(shown: Partition, tree: Mapping[str, str | None]) -> dict[str, frozenset[str]]:
    """Every figure a report could show, as the units whose people it counts: each group, each
    group's unit with all below it (the groups whose top is in its subtree), and the whole."""
    members = {top: frozenset(units) for top, units in shown.grouped({u: u for u in tree}).items()}
    outputs = {f"group {top}": units for top, units in members.items()}
    for top in members:
        below = _subtree(tree, top)
        inside = [units for other, units in members.items() if other in below]
        outputs[f"{top} and below"] = frozenset().union(*inside)
    outputs["organisation"] = frozenset().union(*members.values())
    return outputs


def test_a_team_of_four_is_never_shown_nor_derivable() -> None:
    shown = partition(TREE, PEOPLE, K)
    # Never named, never a group of its own: its people are inside its parent's figure, which
    # says one unit was rolled up into it.
    assert "sales-emea" not in to_json(shown.groups)
    assert all(group.people >= K for group in shown.groups)
    assert shown.group_of("sales-emea") == Group("sales", 20 + 4, rolled_up=1)
    # Every figure shown, and every difference of two of them (a parent and a child, two
    # siblings, a group and the whole, ...): none is 4, nor the own figure of another unit too
    # small to show on its own (company 2, hr 3, payroll 1, hr with payroll 4).
    outputs = _outputs(shown, TREE)
    figures = {name: sum(PEOPLE[unit] for unit in units) for name, units in outputs.items()}
    hidden = {2, 3, 1, 4}
    assert hidden.isdisjoint(figures.values())
    for (one, a), (other, b) in itertools.combinations(figures.items(), 2):
        assert abs(a - b) not in hidden, (one, other)
    # And as sets of people: a figure inside another differs from it by whole groups.
    for a, b in itertools.permutations(outputs.values(), 2):
        if b < a:
            assert sum(PEOPLE[unit] for unit in a - b) >= K


def test_complementary_suppression_at_a_root() -> None:
    # ops 2 (root) -> ops-a 0 -> ops-b 10 and ops-c 6. Bottom-up: ops-b and ops-c stand alone,
    # ops-a (0) shows nothing, so ops's group has 2 people: it takes in its smallest child group,
    # ops-c (6; ops-a between them has nobody): 2 + 6 = 8. One unit with people rolled in.
    tree: dict[str, str | None] = {"ops": None, "ops-a": "ops", "ops-b": "ops-a", "ops-c": "ops-a"}
    shown = partition(tree, {"ops": 2, "ops-a": 0, "ops-b": 10, "ops-c": 6}, K)
    assert shown.groups == (Group("ops", 8, rolled_up=1), Group("ops-b", 10, rolled_up=0))


def test_a_tree_under_k_is_not_shown_at_all() -> None:
    # lab 3 -> bench 1: 4 people in all, nothing to take in: nothing of the tree is shown. A unit
    # with people but not in the tree (contractors, 7) is a root of its own.
    shown = partition({"lab": None, "bench": "lab"}, {"lab": 3, "bench": 1, "contractors": 7}, K)
    assert shown.groups == (Group("contractors", 7, rolled_up=0),)
    assert shown.suppressed == 2
    assert shown.group_of("lab") is None
    assert shown.total == 7


def test_a_filtered_output_coarsens_the_partition_by_hand() -> None:
    # One initiative's people, by unit, within the organisation above. The whole partition's
    # groups hold: company {company, hr, payroll} 0, sales {sales, sales-emea} 3 + 2 = 5,
    # sales-us 12, engineering {engineering, data} 1, platform 8. The same rules on the groups:
    # sales-us 12 and platform 8 stand alone, sales 5 stands alone, engineering (1) rolls into
    # company: 1 < 5 at a root, which takes in its smallest child group, sales (5; platform 8 is
    # the other, under engineering): company 1 + 5 = 6. Units rolled in: hr, payroll, sales,
    # sales-emea, engineering (data has nobody): 5, counted in the whole population, so that the
    # figure does not tell whether a small unit has anyone in the filter.
    # Total 3 + 2 + 12 + 1 + 8 = 26 = 6 + 12 + 8.
    filtered = {"sales": 3, "sales-emea": 2, "sales-us": 12, "engineering": 1, "platform": 8}
    coarse = partition(TREE, PEOPLE, K).coarsen(filtered, K)
    assert coarse.groups == (
        Group("company", 6, rolled_up=5),
        Group("platform", 8, rolled_up=0),
        Group("sales-us", 12, rolled_up=0),
    )
    assert coarse.total == 26


def test_bad_input_is_named() -> None:
    with pytest.raises(ValidationError, match="at least 5") as small:
        partition(TREE, PEOPLE, 4)
    assert small.value.problems[0].where == "min_group_size"
    with pytest.raises(ValidationError, match="unknown parent") as unknown:
        partition({"a": None, "b": "nowhere"}, {}, K)
    assert [p.where for p in unknown.value.problems] == ["org unit 'b'"]
    with pytest.raises(ValidationError, match="cycle") as cycle:
        partition({"a": "c", "b": "a", "c": "b", "d": "a", "e": "e", "f": None}, {}, K)
    # a, b and c are the cycle, e is its own parent; d only hangs below the cycle.
    assert [p.where for p in cycle.value.problems] == [f"org unit {u!r}" for u in "abce"]
    with pytest.raises(ValidationError, match="not counts"):
        partition(TREE, {"sales": -1}, K)
    whole = partition(TREE, PEOPLE, K)
    with pytest.raises(ValidationError) as filtered:
        whole.coarsen({"sales-emea": 5, "elsewhere": 1}, K)
    assert [p.where for p in filtered.value.problems] == [
        "filtered people of unit 'elsewhere'",
        "filtered people of unit 'sales-emea'",
    ]


@st.composite
def organisations(draw: st.DrawFn) -> tuple[dict[str, str | None], dict[str, int], int]:
    """A random forest of up to 14 units (a unit's parent comes before it), people 0..12 each,
    some units only in the counts, and k from 5 to 7."""
    size = draw(st.integers(1, 14))
    tree: dict[str, str | None] = {}
    for i in range(size):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        tree[f"u{i}"] = None if parent is None else f"u{parent}"
    people = {unit: draw(st.integers(0, 12)) for unit in tree}
    people |= {f"x{i}": draw(st.integers(0, 6)) for i in range(draw(st.integers(0, 2)))}
    return tree, people, draw(st.integers(5, 7))


def _root(tree: Mapping[str, str | None], unit: str) -> str:
    while (parent := tree.get(unit)) is not None:
        unit = parent
    return unit


@settings(max_examples=300, deadline=None)
@given(organisations())
def test_every_group_is_k_or_more_disjoint_and_adds_up(
    organisation: tuple[dict[str, str | None], dict[str, int], int],
) -> None:
    tree, people, k = organisation
    shown = partition(tree, people, k)
    every = tree | {unit: None for unit in people if unit not in tree}
    members = shown.grouped({unit: unit for unit in every})
    assert all(group.people >= k for group in shown.groups)
    assert [group.unit for group in shown.groups] == list(members)
    listed = [unit for units in members.values() for unit in units]
    assert len(listed) == len(set(listed))  # disjoint
    for group in shown.groups:
        assert group.people == sum(people.get(unit, 0) for unit in members[group.unit])
        assert group.unit in members[group.unit]
    # Every person is in a group, or in a tree of fewer than k people shown nowhere.
    left_out = {unit for unit in every if people.get(unit, 0) and unit not in listed}
    for unit in left_out:
        root = _root(every, unit)
        assert 0 < sum(people.get(u, 0) for u in every if _root(every, u) == root) < k
    assert shown.total + sum(people[unit] for unit in left_out) == sum(people.values())
    assert shown.suppressed == len(left_out)
    # No figure inside another differs from it by fewer than k people, so no unit too small to
    # show on its own is the difference of two outputs.
    outputs = _outputs(shown, every)
    for a, b in itertools.permutations(outputs.values(), 2):
        if b < a:
            assert sum(people.get(unit, 0) for unit in a - b) >= k


@settings(max_examples=300, deadline=None)
@given(organisations(), st.data())
def test_coarsening_merges_whole_groups_only(
    organisation: tuple[dict[str, str | None], dict[str, int], int], data: st.DataObject
) -> None:
    tree, people, k = organisation
    whole = partition(tree, people, k)
    filtered = {unit: data.draw(st.integers(0, count)) for unit, count in people.items()}
    coarse = whole.coarsen(filtered, k)
    assert all(group.people >= k for group in coarse.groups)
    # Every group of the whole lands in one coarse group (or none): never split.
    for top, units in whole.grouped({unit: unit for unit in people}).items():
        assert len({coarse.group_of(unit) for unit in units}) == 1, top
    left_out = sum(count for unit, count in filtered.items() if coarse.group_of(unit) is None)
    assert coarse.total + left_out == sum(filtered.values())
    # A group says how many units it holds by the whole population, whatever the filter.
    for group in coarse.groups:
        assert group.rolled_up == sum(
            1
            for unit in people
            if unit != group.unit and people[unit] and coarse.group_of(unit) == group
        )
    # Coarsening the whole population by its own counts changes nothing.
    assert whole.coarsen(people, k).groups == whole.groups

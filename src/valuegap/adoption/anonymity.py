"""The disclosure partition: which groups of people adoption figures may be shown for.

Every figure about people is shown for a group of at least k of them (``min_group_size``, 5 or
more), never for a smaller unit, and never so that two figures differ by a smaller unit. One
partition of the organisation's units into disjoint groups does both:

- bottom-up, a unit whose group (its own people and those rolled up into it) has 1 to k-1
  people rolls up, whole, into its parent's group; a unit with no people shows nothing;
- complementary suppression at the top: a root (a unit without a parent) whose group has 1 to
  k-1 people takes in its smallest child group (each has k or more); with none to take in, its
  tree has fewer than k people and nothing of it is shown.

Every shown group then has k or more people, the groups are disjoint, and they add up to every
person shown: a sum or a difference of groups is a union of groups, never a smaller unit. Every
output uses the one partition computed over the whole adoption population; a filtered output
(one initiative, one subtree) coarsens it (``Partition.coarsen``) by the same rules applied to
whole groups, never splits it. A group says how many units were rolled into it, never which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from valuegap.errors import Problem, ValidationError
from valuegap.records import record

SMALLEST_K = 5
V = TypeVar("V")


@record
class Group:
    """A disclosed group: named by its top unit, with its people and how many other units' people
    are inside it (``rolled_up``: units too small to show on their own, or a group a root took
    in), never their names or sizes."""

    unit: str
    people: int
    rolled_up: int


class Partition:
    """The disjoint groups, k or more people each, that every adoption figure is shown for.

    Which units a group holds, and their people, stay inside: only ``groups`` (names, people,
    how many units rolled up) and counts are read out. Built by ``partition``."""

    def __init__(
        self,
        k: int,
        parents: Mapping[str, str | None],
        people: Mapping[str, int],
        home: Mapping[str, str | None],
        counts: Mapping[str, int] | None = None,
    ) -> None:
        self.k = k
        self._parents = dict(parents)
        self._people = dict(people)  # the whole population, by unit
        # Each unit's group, by its top unit: a shown group, or an empty one (a root without
        # people, shown nowhere); None for a unit of a suppressed tree.
        self._home = dict(home)
        counts = people if counts is None else counts  # the population the groups show
        size: dict[str, int] = {}
        rolled_up: dict[str, int] = {}
        for unit, top in home.items():
            if top is not None:
                size[top] = size.get(top, 0) + counts[unit]
                # By the whole population, so that a filtered output does not tell whether a
                # small unit has anyone in the filter.
                rolled_up[top] = rolled_up.get(top, 0) + (unit != top and people[unit] > 0)
        self.groups = tuple(
            Group(top, size[top], rolled_up[top]) for top in sorted(size) if size[top] > 0
        )
        # Units with people in a tree of fewer than k people: not shown at all.
        self.suppressed = sum(1 for unit, top in home.items() if top is None and counts[unit])

    @property
    def total(self) -> int:
        """The people shown: the sum of the groups."""
        return sum(group.people for group in self.groups)

    def group_of(self, unit: str) -> Group | None:
        """The shown group that holds ``unit``'s people; None when they are not shown."""
        top = self._home.get(unit)
        return next((group for group in self.groups if group.unit == top), None)

    def grouped(self, values: Mapping[str, V]) -> dict[str, list[V]]:
        """``values`` (by unit) collected by shown group (by its top unit), for the caller to
        add up; the values of units not shown are left out."""
        shown = {group.unit for group in self.groups}
        collected: dict[str, list[V]] = {unit: [] for unit in sorted(shown)}
        for unit, value in values.items():
            top = self._home.get(unit)
            if top is not None and top in collected:
                collected[top].append(value)
        return collected

    def coarsen(self, counts: Mapping[str, int], k: int) -> Partition:
        """The partition of a filtered population (``counts``: its people by unit, each at most
        the unit's people here): a group whose filtered people are 1 to k-1 rolls, whole, into
        its parent group by the same rules; no group is ever split."""
        check_k(k)
        problems = [
            Problem(f"filtered people of unit {unit!r}", "not a unit of the partition", count)
            for unit, count in counts.items()
            if unit not in self._home
        ]
        problems += _negative(counts, "filtered people")
        problems += [
            Problem(
                f"filtered people of unit {unit!r}",
                f"more than the {self._people[unit]} people of the whole population",
                count,
            )
            for unit, count in counts.items()
            if unit in self._home and count > self._people[unit]
        ]
        if problems:
            raise ValidationError("The filtered counts do not fit the partition.", problems)
        tops = {top for top in self._home.values() if top is not None}
        above = {top: self._home[parent] for top in tops if (parent := self._parents[top])}
        size = dict.fromkeys(tops, 0)
        for unit, count in counts.items():
            if (top := self._home[unit]) is not None:
                size[top] += count
        merged = _merge({top: above.get(top) for top in tops}, size, k)
        home = {unit: merged[top] if top is not None else None for unit, top in self._home.items()}
        filtered = {unit: counts.get(unit, 0) for unit in self._home}
        return Partition(k, self._parents, self._people, home, filtered)


def partition(tree: Mapping[str, str | None], people: Mapping[str, int], k: int) -> Partition:
    """The disclosure partition of the organisation ``tree`` (each unit's parent, None for a
    root) with ``people`` (by unit: the people whose unit is exactly that unit) at group size
    ``k``. A unit with people but not in the tree is a root of its own."""
    check_k(k)
    parents = org_tree(tree)
    problems = _negative(people, "people")
    if problems:
        raise ValidationError("The people per unit are not counts.", problems)
    parents |= {unit: None for unit in people if unit not in parents}
    counts = {unit: people.get(unit, 0) for unit in parents}
    return Partition(k, parents, counts, _merge(parents, counts, k))


def check_k(k: int) -> None:
    """Refuse a group size below ``SMALLEST_K``: smaller groups identify people."""
    if k < SMALLEST_K:
        raise ValidationError(
            "The minimum group size is too small.",
            [Problem("min_group_size", f"must be at least {SMALLEST_K}", k)],
        )


def org_tree(tree: Mapping[str, str | None]) -> dict[str, str | None]:
    """``tree`` checked: every parent is a unit of it, and no unit is its own ancestor."""
    problems = [
        Problem(f"org unit {unit!r}", "its parent is not an org unit: add it or fix the name", up)
        for unit, up in tree.items()
        if up is not None and up not in tree
    ]
    if problems:
        raise ValidationError("The org tree names an unknown parent.", problems)
    in_cycle: set[str] = set()
    for unit in tree:
        seen, up = [unit], tree[unit]
        while up is not None and up not in seen:
            seen.append(up)
            up = tree[up]
        if up == unit:
            in_cycle.update(seen)
    if in_cycle:
        raise ValidationError(
            "The org tree has a cycle: a unit is its own ancestor.",
            [
                Problem(f"org unit {unit!r}", "is its own ancestor", tree[unit])
                for unit in sorted(in_cycle)
            ],
        )
    return dict(tree)


def _negative(counts: Mapping[str, int], what: str) -> list[Problem]:
    return [
        Problem(f"{what} of unit {unit!r}", "must be a whole number, 0 or more", count)
        for unit, count in counts.items()
        if count < 0
    ]


def _merge(
    parents: Mapping[str, str | None], size: Mapping[str, int], k: int
) -> dict[str, str | None]:
    """The rules over a forest of nodes (units, or a partition's groups): each node's top, the
    node that names its group, or None when its tree is suppressed."""
    joined: dict[str, str] = {}  # a node -> the node whose group took its group in
    people = dict(size)
    for node in sorted(parents, key=lambda node: -_depth(parents, node)):
        parent = parents[node]
        if parent is not None and people[node] < k:
            joined[node] = parent
            people[parent] += people[node]

    def top(node: str) -> str:
        while node in joined:
            node = joined[node]
        return node

    suppressed: set[str] = set()
    for root in sorted(node for node, parent in parents.items() if parent is None):
        if not 0 < people[root] < k:
            continue
        children = [
            node
            for node, parent in parents.items()
            if node not in joined and parent is not None and top(parent) == root
        ]
        if children:
            child = min(children, key=lambda node: (people[node], node))
            joined[child] = root
            people[root] += people[child]
        else:
            suppressed.add(root)
    tops = {node: top(node) for node in parents}
    return {node: None if home in suppressed else home for node, home in tops.items()}


def _depth(parents: Mapping[str, str | None], node: str) -> int:
    depth, up = 0, parents[node]
    while up is not None:
        depth, up = depth + 1, parents[up]
    return depth

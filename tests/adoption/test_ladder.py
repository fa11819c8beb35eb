"""The adoption ladder: hand-built groups whose rungs and drops are worked by hand; invariants."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.adoption.ladder import (
    PERSON_RUNGS,
    RUNGS,
    Drop,
    LadderCounts,
    LadderCriteria,
    Rung,
    combine,
    holds,
    ladder,
)
from valuegap.errors import ValidationError

# docs/adoption.md's worked example: 20 licensed people, whose highest rungs are access 2,
# awareness 4, training 6, experimentation 3, regular_use 5 (2 + 4 + 6 + 3 + 5 = 20).
# Reaching each rung (it or above): 20, 18, 14, 8, 5, of 20: 100 %, 90 %, 70 %, 40 %, 25 %.
# Falls: 10, 20, 30, 15 points: the largest is training -> experimentation (30 %).
# Criteria (defaults): awareness 90 % >= 50 %, training 70 % >= 30 %, experimentation
# 40 % >= 30 %, regular_use 25 % < 30 %: the group stands on experimentation, though its SOPs
# are updated, 60 % of its process volume is AI-handled and it has a validated outcome: a rung
# counts only together with every rung below it.
SALES = LadderCounts(
    access=2,
    awareness=4,
    training=6,
    experimentation=3,
    regular_use=5,
    sops_updated=True,
    ai_volume=600,
    process_volume=1000,
    validated_outcome=True,
)


def test_the_worked_example_by_hand() -> None:
    found = ladder(SALES)
    assert found.rung is Rung.experimentation
    assert found.licensed == 20
    assert [(r.rung, r.people, r.reaching) for r in found.rungs] == [
        (Rung.access, 2, 20),
        (Rung.awareness, 4, 18),
        (Rung.training, 6, 14),
        (Rung.experimentation, 3, 8),
        (Rung.regular_use, 5, 5),
    ]
    assert [r.share for r in found.rungs] == [0.1, 0.2, 0.3, 0.15, 0.25]
    assert [r.cumulative for r in found.rungs] == [1.0, 0.9, 0.7, 0.4, 0.25]
    assert found.largest_drop == Drop(Rung.training, Rung.experimentation, pytest.approx(0.3))


def test_a_group_up_to_workflow_integration_and_measured_outcome() -> None:
    # 10 licensed: access 0, awareness 1, training 2, experimentation 3, regular_use 4.
    # Reaching: 10, 10, 9, 7, 4: 100 %, 100 %, 90 %, 70 %, 40 %; falls 0, 10, 20, 30 points: the
    # largest is experimentation -> regular_use. regular_use 40 % >= 30 %; SOPs updated and
    # 300 of 500 (60 %) AI-handled >= 50 %: workflow_integration; no validated outcome yet.
    counts = LadderCounts(0, 1, 2, 3, 4, sops_updated=True, ai_volume=300, process_volume=500)
    found = ladder(counts)
    assert found.rung is Rung.workflow_integration
    assert found.largest_drop == Drop(Rung.experimentation, Rung.regular_use, pytest.approx(0.3))
    assert ladder(replace(counts, validated_outcome=True)).rung is Rung.measured_outcome
    # Exactly 50 % is enough (250 of 500); 249 is not; without SOPs updated, 100 % is not.
    assert ladder(replace(counts, ai_volume=250)).rung is Rung.workflow_integration
    assert ladder(replace(counts, ai_volume=249)).rung is Rung.regular_use
    assert ladder(replace(counts, ai_volume=500, sops_updated=False)).rung is Rung.regular_use
    assert ladder(replace(counts, ai_volume=0, process_volume=0)).rung is Rung.regular_use


def test_a_rung_needs_every_rung_below() -> None:
    # 10 licensed: 6 with access only, 4 regular users. Awareness reaches 4 of 10, 40 % < 50 %:
    # the group stands on access, although 40 % are regular users. Falls: 60 points from access
    # to awareness, then none.
    found = ladder(LadderCounts(access=6, regular_use=4))
    assert found.rung is Rung.access
    assert found.largest_drop == Drop(Rung.access, Rung.awareness, pytest.approx(0.6))


def test_ties_and_no_fall() -> None:
    # 2 people on each rung: reaching 10, 8, 6, 4, 2; every fall is 20 points: the lower pair.
    assert ladder(LadderCounts(2, 2, 2, 2, 2)).largest_drop == Drop(
        Rung.access, Rung.awareness, pytest.approx(0.2)
    )
    everyone = ladder(LadderCounts(regular_use=7))
    assert everyone.largest_drop is None
    assert [r.cumulative for r in everyone.rungs] == [1.0] * 5
    assert everyone.rung is Rung.regular_use
    nobody = ladder(LadderCounts())
    assert (nobody.rung, nobody.licensed, nobody.rungs, nobody.largest_drop) == (None, 0, (), None)


def test_criteria_change_the_rung() -> None:
    # SALES with regular_use needing 25 % (5 of 20 reach it): regular_use; it has SOPs updated
    # and 60 % AI-handled, and a validated outcome: measured_outcome.
    assert ladder(SALES, LadderCriteria(regular_use=Decimal("0.25"))).rung is Rung.measured_outcome
    # Awareness needing 95 % (18 of 20 is 90 %): access.
    assert ladder(SALES, LadderCriteria(awareness=Decimal("0.95"))).rung is Rung.access


def test_units_add_up_into_a_group() -> None:
    # sales (SALES) and a team: 1 at access, 2 regular users, 100 of 100 AI-handled, SOPs not
    # updated. People add: 3, 4, 6, 3, 7 = 23; volumes 700 of 1,100. SOPs: the team has process
    # volume and no SOPs updated, so the group has not; a validated outcome of either counts.
    team = LadderCounts(access=1, regular_use=2, ai_volume=100, process_volume=100)
    group = combine([SALES, team])
    assert group == LadderCounts(3, 4, 6, 3, 7, False, 700, 1100, True)
    assert combine([team, replace(team, sops_updated=True)]).sops_updated is False
    assert combine([replace(team, sops_updated=True)] * 2).sops_updated is True
    # Without process volume anywhere, one attestation carries it (nothing to integrate yet).
    idle = LadderCounts(access=1)
    assert combine([idle, replace(idle, sops_updated=True)]).sops_updated is True
    assert combine([]) == LadderCounts()


def test_bad_counts_and_criteria_are_named() -> None:
    with pytest.raises(ValidationError) as counts:
        LadderCounts(training=-1, ai_volume=5, process_volume=4)
    assert [p.where for p in counts.value.problems] == [
        "ladder counts training",
        "ladder counts ai_volume",
    ]
    with pytest.raises(ValidationError) as criteria:
        LadderCriteria(training=Decimal("1.5"), regular_weeks=5)
    assert [p.where for p in criteria.value.problems] == [
        "ladder criteria training",
        "ladder criteria regular_weeks",
    ]


def test_the_rungs_are_ordered() -> None:
    assert sorted(RUNGS, reverse=True)[0] is Rung.measured_outcome
    assert Rung.access < Rung.awareness < Rung.regular_use < Rung.workflow_integration
    assert [rung.level for rung in RUNGS] == [1, 2, 3, 4, 5, 6, 7]


@st.composite
def counts(draw: st.DrawFn) -> LadderCounts:
    people = [draw(st.integers(0, 40)) for _ in PERSON_RUNGS]
    volume = draw(st.integers(0, 100))
    return LadderCounts(
        *people,
        sops_updated=draw(st.booleans()),
        ai_volume=draw(st.integers(0, volume)),
        process_volume=volume,
        validated_outcome=draw(st.booleans()),
    )


criteria = st.builds(
    LadderCriteria,
    *(st.decimals(0, 1, places=2) for _ in range(5)),
)


@settings(max_examples=300, deadline=None)
@given(counts(), criteria)
def test_shares_and_the_rung(group: LadderCounts, rules: LadderCriteria) -> None:
    found = ladder(group, rules)
    if not group.licensed:
        assert found.rung is None
        return
    assert math.isclose(sum(r.share for r in found.rungs), 1)
    assert all(0 <= r.share <= 1 and 0 <= r.cumulative <= 1 for r in found.rungs)
    assert found.rungs[0].cumulative == 1
    cumulative = [r.cumulative for r in found.rungs]
    assert cumulative == sorted(cumulative, reverse=True)  # never rises
    # The rung's criterion holds with every one below it, and the next rung's does not.
    assert found.rung is not None
    assert all(holds(rung, group, rules) for rung in RUNGS if rung <= found.rung)
    if found.rung is not Rung.measured_outcome:
        assert not holds(RUNGS[found.rung.level], group, rules)
    if found.largest_drop is not None:
        falls = [a - b for a, b in itertools.pairwise(cumulative)]
        assert found.largest_drop.fall == pytest.approx(max(falls))


@settings(max_examples=200, deadline=None)
@given(st.lists(counts(), max_size=5))
def test_combining_adds_people_and_volumes(parts: list[LadderCounts]) -> None:
    group = combine(parts)
    assert group.licensed == sum(part.licensed for part in parts)
    for rung in PERSON_RUNGS:
        assert group.reaching(rung) == sum(part.reaching(rung) for part in parts)
    assert group.process_volume == sum(part.process_volume for part in parts)
    if len(parts) == 1:
        assert group == parts[0]

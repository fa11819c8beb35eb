"""Conviction distance: the five levels, the distance and the largest drop, worked by hand."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.adoption.conviction import (
    Conviction,
    Level,
    LevelDrop,
    Survey,
    combine_surveys,
    conviction,
)
from valuegap.adoption.ladder import LadderCounts
from valuegap.errors import ValidationError

# docs/adoption.md's worked example. Executives answer 4 on average on the 1-5 scale:
# (4 - 1) / 4 = 0.75; managers 3.5: (3.5 - 1) / 4 = 0.625. Of 20 licensed people, 5 are
# regular users: 0.25. SOPs updated and 600 of 1,000 of the process volume AI-handled: 0.6.
# A quarter of the initiatives' AI cost backed by validated outcomes: 0.25.
# Distance: 0.75 - 0.25 = 0.5. Falls: 0.125, 0.375, -0.35 (a rise), 0.35: the largest is from
# manager_readiness to workforce_use.
EXECUTIVES = Survey(respondents=4, score=Decimal("0.75"))
MANAGERS = Survey(respondents=6, score=Decimal("0.625"))
SALES = LadderCounts(2, 4, 6, 3, 5, sops_updated=True, ai_volume=600, process_volume=1000)


def test_the_worked_example_by_hand() -> None:
    found = conviction(EXECUTIVES, MANAGERS, SALES, 0.25)
    assert [(score.level, score.score) for score in found.levels] == [
        (Level.executive_confidence, 0.75),
        (Level.manager_readiness, 0.625),
        (Level.workforce_use, 0.25),
        (Level.workflow_integration, 0.6),
        (Level.realised_outcome, 0.25),
    ]
    assert found.distance == 0.5
    assert found.largest_drop == LevelDrop(Level.manager_readiness, Level.workforce_use, 0.375)


def _scores(found: Conviction) -> list[float | None]:
    return [score.score for score in found.levels]


def test_what_is_not_measured() -> None:
    # Without SOPs updated the workflow level is 0: falls 0.125, 0.375, 0.25, -0.25.
    found = conviction(EXECUTIVES, MANAGERS, replace(SALES, sops_updated=False), 0.25)
    assert _scores(found) == [0.75, 0.625, 0.25, 0.0, 0.25]
    assert found.largest_drop == LevelDrop(Level.manager_readiness, Level.workforce_use, 0.375)
    # Managers not surveyed: the pairs either side of them are skipped; 0.25 -> 0.6 rises,
    # 0.6 -> 0.25 falls by 0.35.
    found = conviction(EXECUTIVES, None, SALES, 0.25)
    assert _scores(found)[1] is None
    assert found.largest_drop == LevelDrop(
        Level.workflow_integration, Level.realised_outcome, pytest.approx(0.35)
    )
    # No process volume: workflow not measured; nobody licensed: workforce not measured;
    # executives not surveyed (or nobody answered): no distance.
    idle = replace(SALES, ai_volume=0, process_volume=0)
    assert _scores(conviction(None, None, idle, None))[3] is None
    assert _scores(conviction(None, None, LadderCounts(), None))[2] is None
    assert conviction(Survey(0, Decimal(0)), None, SALES, 0.25).distance is None
    # Belief below results: a negative distance, and no drop where every level rises.
    rising = conviction(Survey(3, Decimal(0)), Survey(3, Decimal(0)), LadderCounts(3), 1.0)
    assert rising.distance == -1.0
    assert rising.largest_drop is None


def test_surveys_of_units_combine_by_respondents() -> None:
    # 4 answering 0.75 and 6 answering 0.5: (4 x 0.75 + 6 x 0.5) / 10 = 6 / 10 = 0.6.
    assert combine_surveys([EXECUTIVES, Survey(6, Decimal("0.5")), Survey(0, Decimal(1))]) == (
        Survey(10, Decimal("0.6"))
    )
    assert combine_surveys([]) is None


def test_bad_scores_are_named() -> None:
    with pytest.raises(ValidationError) as realised:
        conviction(None, None, SALES, 1.5)
    assert realised.value.problems[0].where == "realised_outcome"
    with pytest.raises(ValidationError) as survey:
        conviction(None, Survey(2, Decimal(2)), SALES, None)
    assert survey.value.problems[0].where == "manager_readiness"


surveys = st.none() | st.builds(Survey, st.integers(0, 30), st.decimals(0, 1, places=3))


@st.composite
def counts(draw: st.DrawFn) -> LadderCounts:
    volume = draw(st.integers(0, 100))
    return LadderCounts(
        *(draw(st.integers(0, 20)) for _ in range(5)),
        sops_updated=draw(st.booleans()),
        ai_volume=draw(st.integers(0, volume)),
        process_volume=volume,
    )


@settings(max_examples=200, deadline=None)
@given(surveys, surveys, counts(), st.none() | st.floats(0, 1))
def test_levels_are_shares_and_the_drop_is_the_largest_fall(
    executives: Survey | None,
    managers: Survey | None,
    group: LadderCounts,
    realised: float | None,
) -> None:
    found = conviction(executives, managers, group, realised)
    scores = _scores(found)
    assert all(score is None or 0 <= score <= 1 for score in scores)
    assert found.distance is None or -1 <= found.distance <= 1
    falls = [a - b for a, b in itertools.pairwise(scores) if a is not None and b is not None]
    if found.largest_drop is None:
        assert all(fall <= 0 for fall in falls)
    else:
        assert found.largest_drop.fall == max(falls) > 0

"""Conviction distance: how far what leaders believe runs ahead of what the organisation does.

Five levels per group, each scored from 0 to 1, from belief down to results:

- executive_confidence and manager_readiness: the survey's mean answer on its 1-5 scale, scaled
  to 0-1 ((mean - 1) / 4); None when the group was not surveyed;
- workforce_use: the share of licensed people at regular_use or above (the ladder);
- workflow_integration: the AI-handled share of the process volume; 0 without the
  ``sops_updated`` control attested; None without process volume;
- realised_outcome: the attribution coverage of the group's initiatives (the share of their
  AI cost backed by a validated outcome).

The distance is executive_confidence less realised_outcome: belief not (yet) backed by results.
The largest drop is the consecutive pair of levels with the largest fall (the first pair on a
tie); a pair with a level not scored is skipped.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from decimal import Decimal

from valuegap.adoption.ladder import LadderCounts, Rung
from valuegap.errors import Problem, ValidationError
from valuegap.records import record
from valuegap.results import Ratio


class Level(enum.Enum):
    """A level of conviction, from belief (first) to results (last)."""

    executive_confidence = "executive_confidence"
    manager_readiness = "manager_readiness"
    workforce_use = "workforce_use"
    workflow_integration = "workflow_integration"
    realised_outcome = "realised_outcome"


LEVELS: tuple[Level, ...] = tuple(Level)


@record
class Survey:
    """A survey's answers for a group, as stored: respondents and their mean scaled to 0-1."""

    respondents: int
    score: Decimal


def combine_surveys(parts: Iterable[Survey]) -> Survey | None:
    """The survey of a group made of several units: the mean weighted by respondents; None
    when nobody answered."""
    parts = [part for part in parts if part.respondents > 0]
    respondents = sum(part.respondents for part in parts)
    if not respondents:
        return None
    weighted = sum((part.score * part.respondents for part in parts), Decimal(0))
    return Survey(respondents, weighted / respondents)


@record
class LevelScore:
    level: Level
    score: Ratio | None  # None: not measured for this group


@record
class LevelDrop:
    """From ``upper`` down to the next level, ``lower``, the score falls by ``fall``."""

    upper: Level
    lower: Level
    fall: Ratio


@record
class Conviction:
    """A group's five levels, its conviction distance (None without both ends) and its largest
    drop (None when no level falls)."""

    levels: tuple[LevelScore, ...]
    distance: Ratio | None
    largest_drop: LevelDrop | None


def conviction(
    executive_confidence: Survey | None,
    manager_readiness: Survey | None,
    counts: LadderCounts,
    realised_outcome: float | None,
) -> Conviction:
    """The conviction of a group from its surveys, its ladder counts and the attribution
    coverage of its initiatives."""
    if realised_outcome is not None and not 0 <= realised_outcome <= 1:
        raise ValidationError(
            "The conviction levels are not usable.",
            [Problem("realised_outcome", "must be a share from 0 to 1", realised_outcome)],
        )
    licensed = counts.licensed
    volume = counts.process_volume
    scores: dict[Level, float | None] = {
        Level.executive_confidence: _score(executive_confidence, "executive_confidence"),
        Level.manager_readiness: _score(manager_readiness, "manager_readiness"),
        Level.workforce_use: counts.reaching(Rung.regular_use) / licensed if licensed else None,
        Level.workflow_integration: (
            None if not volume else counts.ai_volume / volume if counts.sops_updated else 0.0
        ),
        Level.realised_outcome: realised_outcome,
    }
    levels = tuple(LevelScore(level, scores[level]) for level in LEVELS)
    top, bottom = scores[Level.executive_confidence], scores[Level.realised_outcome]
    distance = None if top is None or bottom is None else top - bottom
    return Conviction(levels, distance, _largest_drop(levels))


def _score(survey: Survey | None, name: str) -> float | None:
    if survey is None or not survey.respondents:
        return None
    if not 0 <= survey.score <= 1:
        raise ValidationError(
            "The conviction levels are not usable.",
            [Problem(name, "must be a score from 0 to 1", survey.score)],
        )
    return float(survey.score)


def _largest_drop(levels: tuple[LevelScore, ...]) -> LevelDrop | None:
    largest: LevelDrop | None = None
    for upper, lower in itertools.pairwise(levels):
        if upper.score is None or lower.score is None:
            continue
        fall = upper.score - lower.score
        if fall > 0 and (largest is None or fall > largest.fall):
            largest = LevelDrop(upper.level, lower.level, fall)
    return largest

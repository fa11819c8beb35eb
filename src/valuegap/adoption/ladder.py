"""The adoption ladder: how far a group has come, rung by rung, and where most people stop.

Seven rungs, in order. A person stands on the highest of the first five whose criterion holds
together with every rung below it: access (an access record), awareness, training,
experimentation (at least one use), regular_use (active in at least ``regular_weeks`` of the
last ``window_weeks`` weeks). Those are worked out from pseudonymous records below this module,
which sees only counts per group: how many people stand on each rung.

A group stands on the highest rung whose criterion holds together with every rung below it:

- access: at least one licensed person (a person with access);
- awareness, training, experimentation, regular_use: at least the criterion's share of the
  group's licensed people at that rung or above (defaults 50 %, 30 %, 30 %, 30 %);
- workflow_integration: the ``sops_updated`` control attested, and at least ``workflow_share``
  (default 50 %) of the process volume handled with AI;
- measured_outcome: a validated outcome for an initiative of the group.

The group's shares: of its licensed people, the share whose highest rung each person-level rung
is (they add up to 1), and the cumulative share reaching it (that rung or above: 1 at access,
never rising). The largest drop is the consecutive pair of rungs with the largest fall in
cumulative share: where most people stop (ties: the lower pair).
"""

from __future__ import annotations

import enum
import functools
import itertools
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal

from valuegap.errors import Problem, ValidationError
from valuegap.records import record
from valuegap.results import Ratio


@functools.total_ordering
class Rung(enum.Enum):
    """A rung of the ladder; later rungs are higher (``Rung.training > Rung.access``)."""

    access = "access"
    awareness = "awareness"
    training = "training"
    experimentation = "experimentation"
    regular_use = "regular_use"
    workflow_integration = "workflow_integration"
    measured_outcome = "measured_outcome"

    @property
    def level(self) -> int:
        """1 for access up to 7 for measured_outcome."""
        return RUNGS.index(self) + 1

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Rung):
            return NotImplemented
        return self.level < other.level


RUNGS: tuple[Rung, ...] = tuple(Rung)
PERSON_RUNGS: tuple[Rung, ...] = RUNGS[:5]  # a person's rung is one of these


@record
class LadderCriteria:
    """The group-level criteria, with the documented defaults: the share of licensed people at
    a rung or above that the rung needs, and the AI-handled share of the process volume that
    workflow integration needs. ``regular_weeks`` of the last ``window_weeks`` weeks make a
    person a regular user."""

    awareness: Decimal = Decimal("0.5")
    training: Decimal = Decimal("0.3")
    experimentation: Decimal = Decimal("0.3")
    regular_use: Decimal = Decimal("0.3")
    workflow_share: Decimal = Decimal("0.5")
    regular_weeks: int = 3
    window_weeks: int = 4

    def __post_init__(self) -> None:
        problems = [
            Problem(f"ladder criteria {name}", "must be a share from 0 to 1", value)
            for name, value in self.shares().items()
            if not 0 <= value <= 1
        ]
        if not 1 <= self.regular_weeks <= self.window_weeks:
            problems.append(
                Problem(
                    "ladder criteria regular_weeks",
                    f"must be from 1 to window_weeks ({self.window_weeks})",
                    self.regular_weeks,
                )
            )
        if problems:
            raise ValidationError("The ladder criteria are not usable.", problems)

    def shares(self) -> dict[str, Decimal]:
        return {
            "awareness": self.awareness,
            "training": self.training,
            "experimentation": self.experimentation,
            "regular_use": self.regular_use,
            "workflow_share": self.workflow_share,
        }


@record
class LadderCounts:
    """What a group's ladder is worked out from: counts, never a person. ``access`` to
    ``regular_use``: the people whose highest person-level rung that is; ``ai_volume`` of
    ``process_volume`` handled with AI."""

    access: int = 0
    awareness: int = 0
    training: int = 0
    experimentation: int = 0
    regular_use: int = 0
    sops_updated: bool = False
    ai_volume: int = 0
    process_volume: int = 0
    validated_outcome: bool = False

    def __post_init__(self) -> None:
        problems = [
            Problem(f"ladder counts {item.name}", "must be a whole number, 0 or more", value)
            for item in fields(self)
            if isinstance(value := getattr(self, item.name), int)
            and not isinstance(value, bool)
            and value < 0
        ]
        if self.ai_volume > self.process_volume:
            problems.append(
                Problem(
                    "ladder counts ai_volume",
                    f"more than the process volume ({self.process_volume})",
                    self.ai_volume,
                )
            )
        if problems:
            raise ValidationError("The ladder counts are not usable.", problems)

    @property
    def licensed(self) -> int:
        """The licensed people: everyone with access, whatever their highest rung."""
        return sum(self.at(rung) for rung in PERSON_RUNGS)

    def at(self, rung: Rung) -> int:
        """The people whose highest rung is ``rung`` (0 above regular_use: no person stands
        there)."""
        count: int = getattr(self, rung.value) if rung in PERSON_RUNGS else 0
        return count

    def reaching(self, rung: Rung) -> int:
        """The people at ``rung`` or above."""
        return sum(self.at(higher) for higher in PERSON_RUNGS if higher >= rung)


def combine(parts: Iterable[LadderCounts]) -> LadderCounts:
    """The counts of a group made of several units: people and volumes add; a validated outcome
    of any unit counts; ``sops_updated`` holds when every unit with process volume attests it
    (when none has any: when one attests it)."""
    parts = list(parts)
    with_volume = [part for part in parts if part.process_volume > 0]
    sops = (
        all(part.sops_updated for part in with_volume)
        if with_volume
        else any(part.sops_updated for part in parts)
    )
    return LadderCounts(
        access=sum(part.access for part in parts),
        awareness=sum(part.awareness for part in parts),
        training=sum(part.training for part in parts),
        experimentation=sum(part.experimentation for part in parts),
        regular_use=sum(part.regular_use for part in parts),
        sops_updated=sops,
        ai_volume=sum(part.ai_volume for part in parts),
        process_volume=sum(part.process_volume for part in parts),
        validated_outcome=any(part.validated_outcome for part in parts),
    )


@record
class RungShare:
    """A person-level rung in a group: the people whose highest rung it is and those at it or
    above, as counts and as shares of the licensed people."""

    rung: Rung
    people: int
    share: Ratio
    reaching: int
    cumulative: Ratio


@record
class Drop:
    """Where most people stop: from ``upper`` down to the next rung, ``fall`` of the licensed
    people are lost (the cumulative share of ``upper`` less that of the next)."""

    upper: Rung
    lower: Rung
    fall: Ratio


@record
class Ladder:
    """A group's ladder: its rung (None: nobody licensed), its person-level rungs, and its
    largest drop (None: nobody licensed, or nobody stops below regular_use)."""

    rung: Rung | None
    licensed: int
    rungs: tuple[RungShare, ...]  # access to regular_use; empty when nobody is licensed
    largest_drop: Drop | None


def ladder(counts: LadderCounts, criteria: LadderCriteria | None = None) -> Ladder:
    """The ladder of a group with ``counts``, by ``criteria`` (the defaults if None)."""
    criteria = criteria or LadderCriteria()
    licensed = counts.licensed
    if not licensed:
        return Ladder(None, 0, (), None)
    rungs = tuple(
        RungShare(
            rung,
            counts.at(rung),
            counts.at(rung) / licensed,
            counts.reaching(rung),
            counts.reaching(rung) / licensed,
        )
        for rung in PERSON_RUNGS
    )
    standing = None
    for rung in RUNGS:
        if not holds(rung, counts, criteria):
            break
        standing = rung
    return Ladder(standing, licensed, rungs, largest_drop(rungs))


def holds(rung: Rung, counts: LadderCounts, criteria: LadderCriteria) -> bool:
    """Whether the group criterion of ``rung`` holds for ``counts`` (on its own: the group
    stands on a rung when it holds for that rung and every rung below it)."""
    if rung is Rung.access:
        return counts.licensed > 0
    if rung is Rung.workflow_integration:
        volume = counts.process_volume
        return (
            counts.sops_updated
            and volume > 0
            and counts.ai_volume >= criteria.workflow_share * volume
        )
    if rung is Rung.measured_outcome:
        return counts.validated_outcome
    needed: Decimal = getattr(criteria, rung.value)
    return counts.licensed > 0 and counts.reaching(rung) >= needed * counts.licensed


def largest_drop(rungs: tuple[RungShare, ...]) -> Drop | None:
    """The consecutive pair of rungs with the largest fall in cumulative share (the lower pair
    on a tie); None when nothing falls."""
    pairs = list(itertools.pairwise(rungs))
    falls = [upper.reaching - lower.reaching for upper, lower in pairs]
    if not falls or max(falls) == 0:
        return None
    upper, lower = pairs[falls.index(max(falls))]
    return Drop(upper.rung, lower.rung, upper.cumulative - lower.cumulative)

"""The adoption reports: the ladder and the conviction distance of each disclosed group.

Every figure is shown for a group of the ONE disclosure partition (``anonymity``) worked out
over everyone with adoption records on the report date, at k = ``min_group_size``: a report
for one initiative coarsens it with that initiative's people, one for a unit picks its groups,
and neither ever splits a group. A group's inputs are its units' counts added up
(``ladder.combine``, ``conviction.combine_surveys``), never a person's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from valuegap.adoption.anonymity import Group, Partition
from valuegap.adoption.conviction import Level, Survey, combine_surveys, conviction
from valuegap.adoption.ladder import PERSON_RUNGS, LadderCounts, LadderCriteria, combine, ladder
from valuegap.adoption.unit_outcome import UnitOutcome
from valuegap.records import record
from valuegap.results import Ratio
from valuegap.words import counted


@record
class GroupLadder:
    """A disclosed group's ladder: its people (with records), licensed people (with access),
    its rung, the share of its licensed people whose highest rung each is, the cumulative
    share reaching each, and where the largest drop is."""

    group: str
    people: int
    includes: str | None  # "includes 1 unit too small to show on its own"
    licensed: int
    rung: str | None
    share_access: Ratio | None
    share_awareness: Ratio | None
    share_training: Ratio | None
    share_experimentation: Ratio | None
    share_regular_use: Ratio | None
    reaching_access: Ratio | None
    reaching_awareness: Ratio | None
    reaching_training: Ratio | None
    reaching_experimentation: Ratio | None
    reaching_regular_use: Ratio | None
    process_ai_share: Ratio | None
    sops_updated: bool
    validated_outcome: bool
    largest_drop: str | None  # "training -> experimentation"
    largest_drop_fall: Ratio | None


@record
class AdoptionReport:
    """The adoption ladder of every disclosed group (of one initiative's people, or of the
    groups in one unit's part of the org chart, when asked)."""

    on: date
    min_group_size: int
    initiative: str | None
    unit: str | None
    note: str | None  # where --unit's unit is rolled up, or groups are not shown
    groups: list[GroupLadder]


@record
class GroupConviction:
    """A disclosed group's five levels (0-1; None: not measured, or a survey with fewer than
    k respondents, said in ``notes``), its distance and its largest drop."""

    group: str
    people: int
    includes: str | None
    executive_confidence: Ratio | None
    manager_readiness: Ratio | None
    workforce_use: Ratio | None
    workflow_integration: Ratio | None
    realised_outcome: Ratio | None
    distance: Ratio | None
    largest_drop: str | None  # "manager_readiness -> workforce_use"
    largest_drop_fall: Ratio | None
    notes: str | None


@record
class ConvictionReport:
    on: date
    min_group_size: int
    note: str | None
    groups: list[GroupConviction]


@record
class UnitFacts:
    """One unit's inputs, read by the adoption part: its ladder counts (of one subject, or of
    all) and its surveys."""

    counts: LadderCounts
    surveys: Mapping[str, Survey]  # by survey name


def includes(group: Group) -> str | None:
    """The roll-up in words, never naming the units or their sizes."""
    if not group.rolled_up:
        return None
    return f"includes {counted(group.rolled_up, 'unit')} too small to show on its own"


def not_shown(partition: Partition) -> str | None:
    if not partition.suppressed:
        return None
    return (
        f"{counted(partition.suppressed, 'unit')} not shown: their part of the org chart has "
        f"fewer than {partition.k} people"
    )


def ladder_groups(
    partition: Partition,
    facts: Mapping[str, LadderCounts],
    criteria: LadderCriteria,
    shown: Sequence[Group] | None = None,
) -> list[GroupLadder]:
    """The ladder of each group of ``partition`` (or of ``shown``, some of them)."""
    grouped = partition.grouped(facts)
    found = []
    for group in partition.groups if shown is None else shown:
        counts = combine(grouped.get(group.unit, []))
        result = ladder(counts, criteria)
        share = {r.rung.value: r.share for r in result.rungs}
        reach = {r.rung.value: r.cumulative for r in result.rungs}
        drop = result.largest_drop
        found.append(
            GroupLadder(
                group=group.unit,
                people=group.people,
                includes=includes(group),
                licensed=result.licensed,
                rung=result.rung.value if result.rung else None,
                **{f"share_{r.value}": share.get(r.value) for r in PERSON_RUNGS},
                **{f"reaching_{r.value}": reach.get(r.value) for r in PERSON_RUNGS},
                process_ai_share=(
                    counts.ai_volume / counts.process_volume if counts.process_volume else None
                ),
                sops_updated=counts.sops_updated,
                validated_outcome=counts.validated_outcome,
                largest_drop=f"{drop.upper.value} -> {drop.lower.value}" if drop else None,
                largest_drop_fall=drop.fall if drop else None,
            )
        )
    return found


def conviction_groups(
    partition: Partition,
    facts: Mapping[str, UnitFacts],
    outcomes: Mapping[str, UnitOutcome],
) -> list[GroupConviction]:
    """The conviction of each group of ``partition``. A survey of a group with fewer than k
    respondents is not shown; realised outcome is the attribution coverage of the cost of
    the group's units."""
    grouped = partition.grouped({unit: unit for unit in facts})
    found = []
    for group in partition.groups:
        units = grouped.get(group.unit, [])
        counts = combine(facts[unit].counts for unit in units)
        notes = []
        surveys: dict[str, Survey | None] = {}
        for name in (Level.executive_confidence.value, Level.manager_readiness.value):
            survey = combine_surveys(
                facts[unit].surveys[name] for unit in units if name in facts[unit].surveys
            )
            if survey is not None and survey.respondents < partition.k:
                notes.append(f"{name} not shown: fewer than {partition.k} respondents")
                survey = None
            surveys[name] = survey
        mine = [outcomes[unit] for unit in units if unit in outcomes]
        charged = sum((o.charged for o in mine), Decimal(0))
        covered = sum((o.covered for o in mine), Decimal(0))
        realised = float(covered / charged) if charged > 0 else None
        if realised is None:
            notes.append("realised_outcome not measured: no AI cost is charged to the group")
        result = conviction(
            surveys[Level.executive_confidence.value],
            surveys[Level.manager_readiness.value],
            counts,
            realised,
        )
        score = {level.level: level.score for level in result.levels}
        drop = result.largest_drop
        found.append(
            GroupConviction(
                group=group.unit,
                people=group.people,
                includes=includes(group),
                executive_confidence=_rounded(score[Level.executive_confidence]),
                manager_readiness=_rounded(score[Level.manager_readiness]),
                workforce_use=_rounded(score[Level.workforce_use]),
                workflow_integration=_rounded(score[Level.workflow_integration]),
                realised_outcome=_rounded(score[Level.realised_outcome]),
                distance=_rounded(result.distance),
                largest_drop=f"{drop.upper.value} -> {drop.lower.value}" if drop else None,
                largest_drop_fall=_rounded(drop.fall) if drop else None,
                notes="; ".join(notes) or None,
            )
        )
    return found


def _rounded(value: float | None) -> float | None:
    """A score to 4 decimals, as the other reports' ratios (0.7 - 0.25 is 0.45)."""
    return None if value is None else round(value, 4)

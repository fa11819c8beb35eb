"""What the outcomes tell the adoption reports of each business unit (``UnitOutcome``): its
initiatives with a validated outcome and the cost its attribution coverage divides.

Apart from the outcome reports (``reports``, ``results``), so that the adoption reports read
the facts and assess the initiatives without loading the reports' result types.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from valuegap.adoption.unit_outcome import UnitOutcome
from valuegap.costs.rules import UNALLOCATED
from valuegap.months import next_month
from valuegap.outcomes.assessment import ZERO, Assessment, assess
from valuegap.outcomes.facts import Facts, facts_of
from valuegap.outcomes.periods import Window
from valuegap.session import Session

if TYPE_CHECKING:
    from valuegap.costs.api import Costs


def unit_outcomes_on(session: Session, costs: Costs, on: date) -> list[UnitOutcome]:
    """Every business unit's outcomes over everything up to the month of ``on`` (the
    adoption reports'). Every unit's, whoever asks: the adoption reports show every disclosed
    group, and a contributor's own facts hold only their units."""
    session.require("read")
    return unit_outcomes(facts_of(session, costs, None), Window(None, next_month(on)))


def unit_outcomes(facts: Facts, window: Window) -> list[UnitOutcome]:
    """Per business unit, its initiatives with a validated outcome and the cost that its
    attribution coverage (the scoreboard's, ``reports.window_coverage``) divides: the validated
    share of ``charged`` is ``covered``, so that the coverage of several units is the sum of
    theirs."""
    assessed = [assess(facts, i, window) for i in facts.initiatives]
    validated = {a.initiative.id for a in assessed if a.validated}
    found = []
    for unit in business_units(facts, assessed, window):
        buckets: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for r in facts.costs:
            if r.business_unit == unit and window.holds(r.month):
                buckets[r.initiative] += r.cost
        charged = {key: max(cost, ZERO) for key, cost in buckets.items()}
        found.append(
            UnitOutcome(
                unit=unit,
                validated=tuple(
                    sorted(
                        a.initiative.id
                        for a in assessed
                        if a.initiative.business_unit == unit and a.initiative.id in validated
                    )
                ),
                charged=sum(charged.values(), ZERO),
                covered=sum((c for key, c in charged.items() if key in validated), ZERO),
            )
        )
    return found


def business_units(facts: Facts, assessed: Sequence[Assessment], window: Window) -> list[str]:
    """The business units with an initiative, or with cost in the window."""
    charged = {r.business_unit for r in facts.costs if window.holds(r.month)}
    return sorted(({a.initiative.business_unit for a in assessed} | charged) - {UNALLOCATED})

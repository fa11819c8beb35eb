"""What the outcomes tell the adoption reports of a business unit, on its own: the outcome
reports make it without loading the adoption reports (the ladder, the conviction distance)."""

from __future__ import annotations

from decimal import Decimal

from valuegap.records import record


@record
class UnitOutcome:
    """What the outcomes say of a business unit's initiatives up to the report date: those
    with a validated outcome, and the unit's AI cost for attribution coverage (``charged``:
    each initiative's and the unit's overhead's net cost, counted as zero where credits exceed
    charges; ``covered``: of which, that of initiatives with a validated outcome)."""

    unit: str
    validated: tuple[str, ...]
    charged: Decimal
    covered: Decimal

"""An initiative's capacity: the hours it saved, by where they went (redeployed, cost reduced,
not captured). Only captured hours are realised value."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from valuegap.decimals import plain
from valuegap.outcomes.finance import ratio
from valuegap.records import record
from valuegap.results import Ratio
from valuegap.store.outcomes import HoursSaved

ZERO = Decimal(0)


@record
class Capacity:
    """Hours saved, by where they went; only captured hours are realised value."""

    hours_saved: Decimal
    redeployed: Decimal
    cost_reduced: Decimal
    not_captured: Decimal
    captured_hours: Decimal
    captured_share: Ratio | None


def capacity_of(rows: Sequence[HoursSaved]) -> tuple[Capacity, Decimal | None]:
    """Hours saved by split, and the captured share (exact, to scale value with)."""
    redeployed = plain(sum((r.redeployed for r in rows), ZERO))
    cost_reduced = plain(sum((r.cost_reduced for r in rows), ZERO))
    not_captured = plain(sum((r.not_captured for r in rows), ZERO))
    saved = redeployed + cost_reduced + not_captured
    captured = redeployed + cost_reduced
    summary = Capacity(
        hours_saved=saved,
        redeployed=redeployed,
        cost_reduced=cost_reduced,
        not_captured=not_captured,
        captured_hours=captured,
        captured_share=ratio(captured, saved),
    )
    return summary, (captured / saved if saved else None)

"""Stage moves: forward one stage at a time, or to ``retired`` from any stage.

The structural rules live here and always hold, whatever the policies say. Whether a move
that is structurally possible may happen is the stage gate's decision (``governance``).
"""

from __future__ import annotations

from valuegap.errors import PolicyViolation
from valuegap.model.portfolio import Initiative
from valuegap.model.vocabulary import STAGES

FORWARD: tuple[str, ...] = ("proposed", "poc", "mvp", "production", "scaled")


def next_stage(stage: str) -> str | None:
    """The stage after ``stage`` going forward; None after the last, and once retired."""
    if stage not in FORWARD or stage == FORWARD[-1]:
        return None
    return FORWARD[FORWARD.index(stage) + 1]


def possible_moves(stage: str) -> list[str]:
    """The moves an initiative at ``stage`` may ask a gate for: the next stage, then
    retirement; none once retired."""
    if stage == "retired":
        return []
    following = next_stage(stage)
    return [following, "retired"] if following else ["retired"]


def check_move(initiative: Initiative, to_stage: str) -> None:
    """Raise ``PolicyViolation`` unless the move is structurally allowed."""
    current = initiative.stage
    if to_stage not in STAGES:
        raise PolicyViolation(
            f"{to_stage!r} is not a stage; the stages are {', '.join(STAGES)}", ["stage-known"]
        )
    if current == "retired":
        raise PolicyViolation(
            f"{initiative.id} is retired; a retired initiative does not move again "
            "(propose a new initiative instead)",
            ["retired-is-final"],
        )
    if to_stage == "retired":
        return
    if initiative.risk_tier == "prohibited":
        raise PolicyViolation(
            f"{initiative.id} has risk tier 'prohibited' and can never leave 'proposed'",
            ["prohibited-stays-proposed"],
        )
    expected = next_stage(current)
    if to_stage != expected:
        hint = f"the next stage is {expected!r}" if expected else f"{current!r} is the last stage"
        raise PolicyViolation(
            f"{initiative.id} cannot move from {current!r} to {to_stage!r}: stages advance one "
            f"at a time ({hint}); 'retired' is reached with `initiative retire`",
            ["stage-order"],
        )

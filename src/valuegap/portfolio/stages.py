"""Stage moves: forward one stage at a time, or to ``retired`` from any stage.

The structural rules live here and always hold, whatever the policies say. Whether a move
that is structurally possible may happen is the stage gate's decision (``governance``).
"""

from __future__ import annotations

from valuegap.errors import PolicyViolation
from valuegap.model.portfolio import Initiative
from valuegap.model.vocabulary import STAGES

FORWARD: tuple[str, ...] = ("proposed", "poc", "mvp", "production", "scaled")


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
    expected = FORWARD[FORWARD.index(current) + 1] if current != FORWARD[-1] else None
    if to_stage != expected:
        hint = f"the next stage is {expected!r}" if expected else f"{current!r} is the last stage"
        raise PolicyViolation(
            f"{initiative.id} cannot move from {current!r} to {to_stage!r}: stages advance one "
            f"at a time ({hint}); 'retired' is reached with `initiative retire`",
            ["stage-order"],
        )

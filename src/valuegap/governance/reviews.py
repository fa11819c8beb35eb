"""Scale-or-kill reviews: at the review date, a recommendation with reasons a person can act on.

Kill criteria are evaluated first: one that holds means ``kill``. Otherwise anything that can
be repaired (no validated outcome, quality drifted from the PoC, people overriding most of its
decisions) means ``fix``; a validated outcome with ROI at or above the business case's band (its
projected ROI less the band: ``forecast.ramp``) means ``scale``, and one inside the band below
zero is the J-curve's expected dip, not a failure; anything else (validated, but ROI still below
the band) means ``continue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import date, datetime
from typing import Any, Literal

from valuegap.errors import Problem
from valuegap.governance import context as ctx
from valuegap.governance.policy import compile_condition, evaluate_condition
from valuegap.records import record

Recommendation = Literal["scale", "continue", "fix", "kill"]


@record
class Review:
    """A review just run: what it recommends for the initiative at the stage it is at."""

    initiative: str
    stage: str
    due: date
    as_of: date
    recommendation: Recommendation
    reasons: list[str] = field(default_factory=list)


@record
class RecordedReview:
    """A review as the ledger keeps it: who recorded its recommendation, and when."""

    initiative: str
    as_of: date
    due: date
    recommendation: Recommendation
    reasons: list[str]
    recorded_at: datetime
    recorded_by: str


def check_kill_criteria(criteria: list[str], where: str) -> list[Problem]:
    """Problems with kill criteria (syntax, unknown names, not a condition), for ``apply``."""
    problems: list[Problem] = []
    for n, criterion in enumerate(criteria):
        compile_condition(criterion, ctx.for_kill_criteria(), f"{where}[{n}]", problems)
    return problems


def recommend(
    context: Mapping[str, Any], validation_reason: str, override_threshold: float
) -> tuple[Recommendation, list[str]]:
    """The recommendation and its reasons, from a context with the measured names."""
    flat = {**context, **ctx.shortcuts(context)}
    killing, notes = _kill_criteria(context["initiative"]["kill_criteria"], flat)
    if killing:
        return "kill", killing + notes
    finance, quality = context["finance"], context["quality"]
    behaviour = context["behaviour"]
    fixes = []
    if not flat["validated"]:
        fixes.append(f"No validated outcome yet ({validation_reason}).")
    if quality["drifted"]:
        fixes.append(
            f"{quality['measure'].capitalize()} fell from {quality['reference']:.2f} in the PoC "
            f"to {quality['latest']:.2f} (a drop of {quality['drop']:.2f}): find the cause of "
            "the drift."
        )
    override = behaviour["override_rate"]
    if override is not None and override > override_threshold:
        fixes.append(
            f"People override {override:.0%} of its decisions (more than "
            f"{override_threshold:.0%}): ask them why before scaling it."
        )
    if fixes:
        return "fix", fixes + notes
    roi, expected = finance["roi"], finance["expected_roi"]
    low = finance.get("expected_roi_low", expected)
    if roi is None:
        return "continue", [
            "Validated outcome, but no cost is allocated to it yet: allocate "
            "its cost so that ROI can be worked out.",
            *notes,
        ]
    if roi >= (low if low is not None else 0.0):
        return "scale", [
            f"Validated outcome, and ROI so far {roi:.2f} {_against(roi, expected, low)}.",
            *notes,
        ]
    below = (
        f"the business case's band (from {low:.2f}; it projects {expected:.2f})"
        if expected is not None
        else "break-even"
    )
    return "continue", [
        f"Validated outcome, but ROI so far {roi:.2f} is below {below}: keep measuring, and "
        "review again in six months.",
        *notes,
    ]


def _against(roi: float, expected: float | None, low: float | None) -> str:
    """How an ROI at or above the business case's band stands against it."""
    if expected is None or low is None:
        return "is at or above break-even (there is no business case)"
    if roi >= expected:
        against = f"is at or above the business case's {expected:.2f} for these months"
    else:
        against = (
            f"is inside the business case's band for these months (from {low:.2f}; it projects "
            f"{expected:.2f})"
        )
    if roi < 0:
        against += ", below zero as the business case expects: the J-curve's dip, which is normal"
    return against


def _kill_criteria(criteria: list[str], flat: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Reasons from the criteria that hold, and notes on those that could not be evaluated."""
    holding, notes = [], []
    for criterion in criteria:
        program, paths = compile_condition(criterion, ctx.for_kill_criteria(), "", [])
        if program is None:
            notes.append(f"Kill criterion `{criterion}` is not a valid condition; correct it.")
            continue
        held, error = evaluate_condition(program, flat)
        if error is not None:
            notes.append(f"Kill criterion `{criterion}` {error}.")
        elif held:
            used = {path[0] for path in paths}
            values = ", ".join(f"{n} = {_show(flat[n])}" for n in ctx.SHORTCUTS if n in used)
            holding.append(f"Kill criterion `{criterion}` holds ({values}).")
    return holding, notes


def _show(value: Any) -> str:
    """A value as CEL writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return "null" if value is None else str(value)

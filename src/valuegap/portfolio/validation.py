"""Validate input against the portfolio models, reporting every problem in the user's terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pydantic

from valuegap.errors import Problem, ValidationError
from valuegap.model.portfolio import (
    AdoptionRamp,
    AgentSpec,
    Baseline,
    BusinessCase,
    CostEstimate,
    InitiativeSpec,
    MetricSpec,
    PocEvaluation,
)
from valuegap.words import counted

M = TypeVar("M", bound=pydantic.BaseModel)


def validated(model: type[M], data: Any, summary: str) -> M:
    """``model`` built from ``data``, or ``ValidationError`` listing every problem, each with its
    path (initiatives and metrics named by id), the value found and what is allowed."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [_problem(error, data, model) for error in exc.errors()]
        raise ValidationError(f"{summary} {counted(len(problems), 'problem')}:", problems) from exc


def _problem(error: Any, data: Any, root: type[pydantic.BaseModel]) -> Problem:
    """Turn one pydantic error into a Problem whose path names initiatives and metrics by id."""
    parts: list[str] = []
    node = data
    for key in error["loc"]:
        if isinstance(key, int):
            parts[-1] += f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                parts[-1] += f" ({node['id']})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    where = ".".join(parts) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return Problem(where, "is required but missing")
    if error["type"] == "extra_forbidden":
        return Problem(where, _unknown_field_hint(parts, root))
    if error["type"] == "string_pattern_mismatch" and parts[-1] in ("id", "business_unit"):
        message = "must be lower-case letters, digits, '-' or '_', starting with a letter or digit"
    elif error["type"] == "string_pattern_mismatch" and parts[-1] == "currency":
        message = "must be an ISO 4217 code in capitals, such as USD or EUR"
    value = error.get("input")
    if isinstance(value, dict | list) or error["type"].startswith("model_"):
        value = None
    elif isinstance(value, date | Decimal):
        value = str(value)
    return Problem(where, message, value)


def _unknown_field_hint(parts: list[str], root: type[pydantic.BaseModel]) -> str:
    if parts[-1] == "stage":
        return (
            "is not set by a portfolio file: move stages with `Ledger.governance.gates.advance()`"
        )
    container = parts[-2].split("[")[0] if len(parts) > 1 else ""
    model = _MODEL_AT.get(container, root)
    return f"is not a known field here; the fields are: {', '.join(model.model_fields)}"


_MODEL_AT: dict[str, type[pydantic.BaseModel]] = {
    "initiatives": InitiativeSpec,
    "metrics": MetricSpec,
    "baseline": Baseline,
    "business_case": BusinessCase,
    "adoption_ramp": AdoptionRamp,
    "poc_evaluation": PocEvaluation,
    "production_cost_estimate": CostEstimate,
    "agent": AgentSpec,
}

"""One JSON form for every result the ledger returns, whoever shows it: the CLI, the API, the
dashboard.

Results are dataclasses or pydantic models. Their JSON form keeps every field: money and other
decimals are strings (exact, as stored), dates and times ISO 8601, a number that is not finite
(no ratio of zero) null. ``schema`` gives the JSON Schema a web layer declares.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import JsonValue, TypeAdapter

# One stored value, as a row of a table holds it (a removed row, a changed record).
Cell = str | int | float | bool | Decimal | date | datetime | None
Row = dict[str, Cell]


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter  # here: `valuegap --help` imports this module, not pydantic

    return TypeAdapter(kind)


def to_data(result: object) -> JsonValue:
    """``result`` (a result, a list or mapping of them, or a plain value) as JSON data."""
    data: JsonValue = _adapter(Any).dump_python(result, mode="json")
    return data


def to_json(result: object) -> str:
    """``result`` as JSON text, indented for people who read it."""
    return json.dumps(to_data(result), indent=2, ensure_ascii=False)


def schema(kind: Any) -> dict[str, JsonValue]:
    """The JSON Schema of a result type (``InitiativeReport``, ``list[CostLine]``, ...)."""
    found: dict[str, JsonValue] = _adapter(kind).json_schema(mode="serialization")
    return found

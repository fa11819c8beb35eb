"""One JSON form for every result the ledger returns, whoever shows it: the CLI, the API, the
dashboard.

Results are dataclasses or pydantic models. Their JSON form keeps every field: money and other
decimals are strings (exact: every digit the value has, without trailing zeros), dates and times
ISO 8601, a number that is not finite (no ratio of zero) null. ``schema`` gives the JSON Schema a
web layer declares.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import JsonValue, TypeAdapter
from typing_extensions import TypeAliasType

from valuegap.decimals import plain

# One stored value, as a row of a table holds it.
Cell = str | int | float | bool | Decimal | date | datetime | None
Row = dict[str, Cell]
# A value that may nest, and a record of them: a stored row with a map column (a cost line's
# tags), or what a file declares (an initiative's fields, its business case among them).
Value = TypeAliasType("Value", "Cell | list[Value] | dict[str, Value]")
Record = dict[str, Value]


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def to_data(result: object) -> JsonValue:
    """``result`` (a result, a list or mapping of them, or a plain value) as JSON data."""
    # Python values first, so that decimals can lose their trailing zeros (a stored DECIMAL has
    # ten places: 12.0000000000 is 12), then JSON.
    values = _adapter(Any).dump_python(result, mode="python")
    data: JsonValue = _adapter(Any).dump_python(_plain_decimals(values), mode="json")
    return data


def _plain_decimals(value: object) -> object:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {key: _plain_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_decimals(item) for item in value]
    return value


def to_json(result: object) -> str:
    """``result`` as JSON text, indented for people who read it."""
    return json.dumps(to_data(result), indent=2, ensure_ascii=False)


def schema(kind: Any) -> dict[str, JsonValue]:
    """The JSON Schema of a result type (``InitiativeReport``, ``list[CostLine]``, ...)."""
    found: dict[str, JsonValue] = _adapter(kind).json_schema(mode="serialization")
    return found

"""One JSON form for every result the ledger returns, whoever shows it: the CLI, the API, the
dashboard.

Results are dataclasses or pydantic models. Their JSON form keeps every field: money and other
decimals are strings (exact: every digit the value has, without trailing zeros), dates and times
ISO 8601, a number that is not finite (no ratio of zero) null. ``schema`` gives the JSON Schema a
web layer declares.

A result type declares which of its fields are money (``Money``) and which are ratios
(``Ratio``); ``kinds`` reads them, so that a table rounds money to its currency's minor unit and
shows ratios as percentages, while the JSON form stays exact.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import typing
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from typing_extensions import TypeAliasType

if TYPE_CHECKING:
    from pydantic import JsonValue, TypeAdapter

from valuegap.decimals import plain
from valuegap.records import record


class Kind(enum.Enum):
    """What a number is, for people: how a table shows it."""

    money = "money"  # rounded to the currency's minor unit, with thousands separators
    ratio = "ratio"  # a percentage with one decimal: 0.1421 is 14.2%
    quantity = "quantity"  # two decimals, with thousands separators: 79.5275... is 79.53


# An amount in the currency of the result that holds it (its ``currency`` field, or that of the
# report it is part of).
Money = Annotated[Decimal, Kind.money]
# A share or a rate: 0.25 is a quarter.
Ratio = Annotated[float, Kind.ratio]
# A count that may be a fraction (calls shared between initiatives), or a factor.
Quantity = Annotated[Decimal, Kind.quantity]

# One stored value, as a row of a table holds it.
Cell = str | int | float | bool | Decimal | date | datetime | None
Row = dict[str, Cell]
# A value that may nest, and a record of them: a stored row with a map column (a cost line's
# tags), or what a file declares (an initiative's fields, its business case among them).
Value = TypeAliasType("Value", "Cell | list[Value] | dict[str, Value]")
Record = dict[str, Value]


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter  # here: `valuegap --help` imports this module, not pydantic

    return TypeAdapter(kind)


def to_data(result: object) -> JsonValue:
    """``result`` (a result, a list or mapping of them, or a plain value) as JSON data."""
    # Python values first, so that decimals can lose their trailing zeros (a stored DECIMAL has
    # ten places: 12.0000000000 is 12), then JSON.
    values = _adapter(Any).dump_python(result, mode="python")
    data: JsonValue = _adapter(Any).dump_python(_plain_decimals(values), mode="json")
    return data


# Values the walk below passes on as they are. It visits every value of a result, most of them
# texts and numbers: looked up by their exact type first, a result takes a fifth (a report) to
# half (an agent's decision) less time.
_AS_THEY_ARE = (str, int, float, bool, type(None))


def _plain_decimals(value: object) -> object:
    if type(value) in _AS_THEY_ARE:
        return value
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


@record
class Kinds:
    """The fields, by name, that are money, ratios and quantities."""

    money: frozenset[str] = frozenset()
    ratios: frozenset[str] = frozenset()
    quantities: frozenset[str] = frozenset()

    def __or__(self, other: Kinds) -> Kinds:
        return Kinds(
            self.money | other.money,
            self.ratios | other.ratios,
            self.quantities | other.quantities,
        )

    def of(self, name: str) -> Kind | None:
        """The kind of the field ``name``. A flattened name ``a.b`` (the field ``b`` of ``a``)
        has the kind of ``a.b``, else of ``b``, else of ``a`` (a mapping of amounts, such as
        ``cost_by_category``)."""
        for candidate in (name, name.rpartition(".")[2], name.partition(".")[0]):
            if candidate in self.money:
                return Kind.money
            if candidate in self.ratios:
                return Kind.ratio
            if candidate in self.quantities:
                return Kind.quantity
        return None


def kinds(result: object) -> Kinds:
    """The money and ratio fields that the types of ``result`` (a result, or a list or mapping
    of them) declare, theirs and those of the results they hold."""
    if isinstance(result, dict):
        result = list(result.values())
    if not isinstance(result, list | tuple):
        return _declared(type(result))
    found = Kinds()
    types: set[type] = set()
    for item in result:
        if isinstance(item, list | tuple | dict):
            found |= kinds(item)
        elif type(item) not in types:
            types.add(type(item))
            found |= _declared(type(item))
    return found


_DECLARED: dict[type, Kinds] = {}


def _declared(kind: type) -> Kinds:
    if kind not in _DECLARED:
        _DECLARED[kind] = _read_declared(kind)
    return _DECLARED[kind]


def _read_declared(kind: type) -> Kinds:
    named: dict[Kind, set[str]] = {mark: set() for mark in Kind}
    for name, hint in _fields(kind, set()):
        for mark in set(_marks(hint)):
            named[mark].add(name)
    return Kinds(
        frozenset(named[Kind.money]),
        frozenset(named[Kind.ratio]),
        frozenset(named[Kind.quantity]),
    )


def _fields(kind: type, seen: set[type]) -> Iterator[tuple[str, Any]]:
    """The declared fields of a result type and of the result types its fields hold."""
    from pydantic import BaseModel  # here: `valuegap --help` imports this module, not pydantic

    if kind in seen or not (dataclasses.is_dataclass(kind) or issubclass(kind, BaseModel)):
        return
    seen.add(kind)
    for name, hint in typing.get_type_hints(kind, include_extras=True).items():
        yield name, hint
        for held in _held(hint):
            yield from _fields(held, seen)


def _marks(hint: Any) -> Iterator[Kind]:
    """The kinds a field's type is marked with: ``Money``, ``Money | None``, ``dict[str,
    Money]``."""
    if typing.get_origin(hint) is Annotated:
        yield from (mark for mark in hint.__metadata__ if isinstance(mark, Kind))
    for argument in typing.get_args(hint):
        yield from _marks(argument)


def _held(hint: Any) -> Iterator[type]:
    """The classes a field's type holds: ``Line``, ``list[Line]``, ``Line | None``."""
    if isinstance(hint, type):
        yield hint
    for argument in typing.get_args(hint):
        yield from _held(argument)

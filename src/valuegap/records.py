"""``@record``: an immutable dataclass, as ``@dataclass(frozen=True)`` makes, that costs less
to define.

Python 3.11 compiles each method a dataclass generates, class by class, as its module is
imported: a frozen dataclass takes about a millisecond to define, and a report command
imports a hundred of them, a fifth of its start-up. A record has generated only what must be
its own (``__init__``, and the ``__setattr__`` and ``__delattr__`` that refuse a change); its
``__eq__``, ``__hash__`` and ``__repr__`` are shared, and read the class's fields as the
generated ones would: equal to an object of the same class whose compared fields are equal,
hashed on those fields, shown as ``Name(field=value, ...)``. ``dataclasses.fields``,
``replace`` and ``asdict`` work on a record as on any dataclass.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T")
_MISSING = object()


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names`` of an object, as a tuple."""
    if not names:
        return lambda _: ()
    if len(names) == 1:  # attrgetter of one name gives the value, not a tuple of it
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    compared = self.__class__.__record_compared__
    return compared(self) == compared(other)


def _hash(self: Any) -> int:
    return hash(self.__class__.__record_hashed__(self))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    cls = self.__class__
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in cls.__record_shown__)
    return f"{cls.__qualname__}({shown})"


def _make(cls: type[T], kw_only: bool) -> type[T]:
    # What the class itself defines stays, as with @dataclass; __hash__ is None in a class
    # that defines __eq__ alone, and a dataclass then makes one.
    own = {name for name in ("__eq__", "__repr__") if name in cls.__dict__}
    class_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    made: Any = dataclasses.dataclass(frozen=True, eq=False, repr=False, kw_only=kw_only)(cls)
    fields = dataclasses.fields(made)
    made.__record_compared__ = _getter(tuple(f.name for f in fields if f.compare))
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    made.__record_hashed__ = _getter(hashed)
    made.__record_shown__ = tuple(f.name for f in fields if f.repr)
    if "__eq__" not in own:
        made.__eq__ = _eq
    if "__repr__" not in own:
        made.__repr__ = _repr
    if not explicit_hash:
        made.__hash__ = _hash
    return cast("type[T]", made)


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(
    cls: type[T] | None = None, /, *, kw_only: bool = False
) -> type[T] | Callable[[type[T]], type[T]]:
    """``@record`` or ``@record(kw_only=True)`` on a class: its annotated attributes become
    the fields of an immutable dataclass."""
    if cls is None:
        return lambda c: _make(c, kw_only)
    return _make(cls, kw_only)

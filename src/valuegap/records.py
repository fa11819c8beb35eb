"""``@record``: an immutable dataclass, as ``@dataclass(frozen=True)`` makes, that costs less
to define.

Python 3.11 compiles each method a dataclass generates, class by class, as its module is
imported: a frozen dataclass takes about a millisecond to define here (six methods), and a
report command imports a hundred of them, a fifth of its start-up. A record compiles one,
its ``__init__``; its ``__setattr__`` and ``__delattr__`` (which refuse a change) and its
``__eq__``, ``__hash__`` and ``__repr__`` are shared, and read the class's fields as the
generated ones would: equal to an object of the same class whose compared fields are equal,
hashed on those fields, shown as ``Name(field=value, ...)``. ``dataclasses.fields``,
``replace`` and ``asdict`` work on a record as on any dataclass (``dataclasses`` makes the
fields; its parameters say ``init=False``, as the ``__init__`` is the record's own).
"""

from __future__ import annotations

import dataclasses
import inspect
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


def _refuse_set(self: Any, name: str, value: Any) -> None:
    _refuse(self, name, "assign to")
    object.__setattr__(self, name, value)


def _refuse_delete(self: Any, name: str) -> None:
    _refuse(self, name, "delete")
    object.__delattr__(self, name)


def _refuse(obj: Any, name: str, what: str) -> None:
    # As a frozen dataclass: any name on the record itself, a field's on a class made from it.
    cls = obj.__class__
    if "__record_fields__" in cls.__dict__ or name in cls.__record_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot {what} field {name!r}")


class _Factory:
    """A parameter's default where a field has a default factory (shown as dataclasses do)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _init(cls: Any, fields: tuple[dataclasses.Field[Any], ...]) -> tuple[Any, str]:
    """The ``__init__`` a frozen dataclass would have (the same parameters in the same order,
    defaults and annotations, each field set past the refusing ``__setattr__``), and its
    signature as ``inspect.signature`` shows it. (The source names no annotation: compiled
    here, it would take this module's ``annotations`` future.)"""
    names: dict[str, Any] = {"__set": object.__setattr__, "__factory": _FACTORY}
    positional: list[tuple[str, str]] = []  # (parameter, as shown)
    keyword: list[tuple[str, str]] = []
    body: list[str] = []
    annotations: dict[str, Any] = {}
    for f in fields:
        if isinstance(f.type, dataclasses.InitVar) or "InitVar" in str(f.type):
            raise TypeError(f"{cls.__name__}.{f.name}: a record takes no InitVar")
        has_factory = f.default_factory is not dataclasses.MISSING
        if has_factory:
            names[f"__default_{f.name}"] = f.default_factory
        if f.init:
            annotations[f.name] = f.type
            parameter, shown = f.name, f"{f.name}: {inspect.formatannotation(f.type)}"
            if has_factory:
                parameter, shown = f"{parameter}=__factory", f"{shown} = {_FACTORY!r}"
            elif f.default is not dataclasses.MISSING:
                names[f"__default_{f.name}"] = f.default
                parameter, shown = f"{parameter}=__default_{f.name}", f"{shown} = {f.default!r}"
            elif positional and "=" in positional[-1][0] and not f.kw_only:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            (keyword if f.kw_only else positional).append((parameter, shown))
            value = f"__default_{f.name}() if {f.name} is __factory else {f.name}"
            body.append(f"__set(self, {f.name!r}, {value if has_factory else f.name})")
        elif has_factory:  # not a parameter: made each time; a plain default stays the class's
            body.append(f"__set(self, {f.name!r}, __default_{f.name}())")
    listed = [*positional, *([("*", "*"), *keyword] if keyword else [])]
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    parameters = ", ".join(parameter for parameter, _ in listed)
    source = f"def __init__(self, {parameters}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, names)  # made above from the class's fields, as dataclasses does
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**annotations, "return": None}
    return init, "(" + ", ".join(shown for _, shown in listed) + ")"


def _make(cls: type[T], kw_only: bool) -> type[T]:
    # What the class itself defines stays, as with @dataclass; __hash__ is None in a class
    # that defines __eq__ alone, and a dataclass then makes one.
    own = {name for name in ("__eq__", "__repr__") if name in cls.__dict__}
    class_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    documented = bool(cls.__dict__.get("__doc__"))
    if not documented:
        cls.__doc__ = "-"  # named below, once the __init__ is made (dataclasses would name it now)
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=kw_only)(cls)
    fields = dataclasses.fields(made)
    made.__init__, signature = _init(made, fields)
    if not documented:  # as a dataclass names it: by its signature
        made.__doc__ = made.__name__ + signature
    made.__setattr__, made.__delattr__ = _refuse_set, _refuse_delete
    made.__record_fields__ = frozenset(f.name for f in fields)
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

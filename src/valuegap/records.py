"""``@record``: an immutable dataclass, as ``@dataclass(frozen=True)`` makes, that costs less
to define.

Python 3.11 compiles each method a dataclass generates, class by class, as its module is
imported: a frozen dataclass takes about a millisecond to define here (six methods), and a
report command imports a hundred of them, a fifth of its start-up. A record compiles one,
its ``__init__``, and only when it is first used (a command makes few of the records it
imports); its ``__setattr__`` and ``__delattr__`` (which refuse a change) and its
``__eq__``, ``__hash__`` and ``__repr__`` are shared, and read the class's fields as Python
3.11's generated ones do: equal to an object of the same class whose compared fields are equal
as tuples, hashed on those fields, shown as ``Name(field=value, ...)``. ``dataclasses.fields``,
``replace``, ``asdict`` and pickling work on a record as on any dataclass; ``dataclasses`` makes
the fields, so its parameters on the class say ``init=False`` and ``frozen=False``, and a record
does not mix with other dataclasses (neither inherits from the other).
"""

from __future__ import annotations

import dataclasses
import inspect
import reprlib
import sys
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T")
MISSING = dataclasses.MISSING


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names`` of an object, as a tuple."""
    if not names:
        return lambda _: ()
    if len(names) == 1:  # attrgetter of one name gives the value, not a tuple of it
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


# The shared methods, named as the methods they become (as help() and tracebacks show them).


def __eq__(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    compared = self.__class__.__record_compared__
    return compared(self) == compared(other)


def __hash__(self: Any) -> int:
    return hash(self.__class__.__record_hashed__(self))


@reprlib.recursive_repr()
def __repr__(self: Any) -> str:
    cls = self.__class__
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in cls.__record_shown__)
    return f"{cls.__qualname__}({shown})"


def __setattr__(self: Any, name: str, value: Any) -> None:
    # As a frozen dataclass: any name on the record itself, a field's on a class made from it.
    cls = self.__class__
    if "__record_fields__" in cls.__dict__ or name in cls.__record_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def __delattr__(self: Any, name: str) -> None:
    cls = self.__class__
    if "__record_fields__" in cls.__dict__ or name in cls.__record_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


class _Factory:
    """A parameter's default where a field has a default factory (shown as dataclasses do)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _init(cls: Any, fields: tuple[dataclasses.Field[Any], ...]) -> tuple[_UnmadeInit, str]:
    """The ``__init__`` a frozen dataclass would have (the same parameters in the same order,
    defaults and annotations, each field set past the refusing ``__setattr__``; its globals the
    class's module's), made when first used, and its signature as ``inspect.signature`` shows
    it."""
    me = "__dataclass_self__" if "self" in {f.name for f in fields} else "self"
    helpers: dict[str, Any] = {"__set": object.__setattr__, "__factory": _FACTORY}
    positional: list[tuple[str, str]] = []  # (parameter, as shown)
    keyword: list[tuple[str, str]] = []
    body: list[str] = []
    annotations: dict[str, Any] = {}
    defaulted = False
    for f in fields:
        has_factory = f.default_factory is not MISSING
        if has_factory:
            helpers[f"__default_{f.name}"] = f.default_factory
        if f.init:
            annotations[f.name] = f.type
            parameter, shown = f.name, f"{f.name}: {inspect.formatannotation(f.type)}"
            if has_factory:
                parameter, shown = f"{parameter}=__factory", f"{shown} = {_FACTORY!r}"
            elif f.default is not MISSING:
                helpers[f"__default_{f.name}"] = f.default
                parameter, shown = f"{parameter}=__default_{f.name}", f"{shown} = {f.default!r}"
            elif defaulted and not f.kw_only:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            if f.kw_only:
                keyword.append((parameter, shown))
            else:
                positional.append((parameter, shown))
                defaulted = defaulted or has_factory or f.default is not MISSING
            value = f"__default_{f.name}() if {f.name} is __factory else {f.name}"
            body.append(f"__set({me}, {f.name!r}, {value if has_factory else f.name})")
        elif has_factory:  # not a parameter: made each time; a plain default stays the class's
            body.append(f"__set({me}, {f.name!r}, __default_{f.name}())")
    listed = [*positional, *([("*", "*"), *keyword] if keyword else [])]
    if hasattr(cls, "__post_init__"):
        body.append(f"{me}.__post_init__()")
    # As dataclasses does: the function is made inside a maker that takes the helpers, run in
    # the module's globals (so that a signature's names resolve there), leaving them unchanged.
    # Its source names no annotation: compiled here, it would take this module's future.
    parameters = ", ".join([me, *(parameter for parameter, _ in listed)])
    source = (
        f"def __make__({', '.join(helpers)}):\n"
        f" def __init__({parameters}):\n  " + "\n  ".join(body or ["pass"]) + "\n"
        " return __init__"
    )
    module = vars(sys.modules[cls.__module__])
    unmade = _UnmadeInit(cls, module, source, helpers, {**annotations, "return": None})
    return unmade, "(" + ", ".join(shown for _, shown in listed) + ")"


class _UnmadeInit:
    """A record's ``__init__`` until it is first used (an object made, or the class's
    ``__init__`` read): then it is compiled and takes this one's place on the class. Compiling
    it is most of the cost of defining a record, and a command defines many it never makes
    (``report portfolio``: 83 records, 30 of them made)."""

    def __init__(
        self,
        cls: type[Any],
        module: dict[str, Any],
        source: str,
        helpers: dict[str, Any],
        annotations: dict[str, Any],
    ) -> None:
        self._cls, self._module, self._source, self._helpers = cls, module, source, helpers
        self._annotations = annotations

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        init = self._made()
        return init if instance is None else init.__get__(instance, owner)

    def _made(self) -> Any:
        cls = self._cls
        made: dict[str, Any] = {}
        # In the class's module's globals, as dataclasses does.
        exec(self._source, self._module, made)
        init = made["__make__"](**self._helpers)
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__annotations__ = self._annotations
        # Two threads that make the first objects at once compile it twice: the same function.
        cls.__init__ = init
        return init


def _check(cls: type[Any]) -> None:
    """What a record cannot be: a dataclass of another kind's subclass, a class with its own
    ``__setattr__`` or ``__delattr__``, or one with an ``InitVar``."""
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base) and "__record_fields__" not in base.__dict__:
            raise TypeError(f"{cls.__name__}: a record cannot inherit from the dataclass {base}")
    for name in ("__setattr__", "__delattr__"):
        if name in cls.__dict__:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    for name, annotation in inspect.get_annotations(cls).items():
        if isinstance(annotation, dataclasses.InitVar) or "InitVar" in str(annotation):
            raise TypeError(f"{cls.__name__}.{name}: a record takes no InitVar")


def _make(cls: type[T], kw_only: bool) -> type[T]:
    _check(cls)
    # What the class itself defines stays, as with @dataclass; __hash__ is None in a class
    # that defines __eq__ alone, and a dataclass then makes one.
    own = {name for name in ("__eq__", "__repr__") if name in cls.__dict__}
    class_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    documented = bool(cls.__dict__.get("__doc__"))
    if not documented:
        # dataclasses would name it now by the signature of an __init__ it has not made:
        # it is named below, by the record's.
        cls.__doc__ = "-"
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=kw_only)(cls)
    fields = dataclasses.fields(made)
    made.__init__, signature = _init(made, fields)
    if not documented:
        made.__doc__ = made.__name__ + signature
    made.__setattr__, made.__delattr__ = __setattr__, __delattr__
    made.__record_fields__ = frozenset(f.name for f in fields)
    made.__record_compared__ = _getter(tuple(f.name for f in fields if f.compare))
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    made.__record_hashed__ = _getter(hashed)
    made.__record_shown__ = tuple(f.name for f in fields if f.repr)
    if "__eq__" not in own:
        made.__eq__ = __eq__
    if "__repr__" not in own:
        made.__repr__ = __repr__
    if not explicit_hash:
        made.__hash__ = __hash__
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

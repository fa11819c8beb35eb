"""Every public method of the ledger's parts returns a typed result: no ``Any`` anywhere in its
return type, and no bare ``dict`` or ``list[dict]`` that a web layer could not declare."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from valuegap.ledger import Ledger
from valuegap.session import Part


def parts(owner: object, name: str) -> Iterator[tuple[str, Part]]:
    # Every attribute, so that the parts built on first use are built.
    for attribute, value in inspect.getmembers(owner):
        if isinstance(value, Part) and not attribute.startswith("_"):
            yield f"{name}.{attribute}", value
            yield from parts(value, f"{name}.{attribute}")


def fields(kind: type) -> dict[str, object]:
    """The declared fields of a result type of valuegap's (none for any other type)."""
    if not kind.__module__.startswith("valuegap."):
        return {}
    if dataclasses.is_dataclass(kind) or issubclass(kind, BaseModel):
        return typing.get_type_hints(kind)
    return {}


def untyped(kind: object, seen: set[object] | None = None) -> list[str]:
    """Where ``kind`` holds ``Any``, or a ``dict`` whose values are not typed results, itself
    or in a field of a result it holds."""
    seen = set() if seen is None else seen
    if isinstance(kind, list):  # the parameters of a Callable
        return [where for argument in kind for where in untyped(argument, seen)]
    if kind in seen:
        return []
    seen.add(kind)
    if kind is Any or kind is dict or kind is list or kind is object:
        return [str(kind)]
    arguments = typing.get_args(kind)
    if typing.get_origin(kind) is dict and arguments and arguments[1] in (Any, object):
        return [str(kind)]
    found = [where for argument in arguments for where in untyped(argument, seen)]
    if isinstance(kind, type):
        for name, declared in fields(kind).items():
            found += [f"{kind.__name__}.{name}: {where}" for where in untyped(declared, seen)]
    return found


def return_type(method: typing.Callable[..., object]) -> object:
    """The method's return type (None if it declares none), resolved in its module: a
    parameter's type may be imported for type checking only, but a return type must be
    importable, as the web layer declares it."""
    if "return" not in method.__annotations__:
        return None
    annotation = method.__annotations__["return"]
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(inspect.getmodule(method)))
    return type(None) if annotation is None else annotation


def test_no_public_method_returns_any(tmp_path: Path) -> None:
    with Ledger.init(tmp_path / "l.duckdb", actor="ada") as ledger:
        found = []
        for name, part in [("ledger", ledger), *parts(ledger, "ledger")]:
            for method_name, method in inspect.getmembers(type(part), inspect.isfunction):
                if method_name.startswith("_"):
                    continue
                returned = return_type(method)
                wrong = ["no return type"] if returned is None else untyped(returned)
                found += [f"{name}.{method_name}: {where}" for where in wrong]
    assert found == []

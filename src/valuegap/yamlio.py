"""YAML with exact decimals: floats are read as ``Decimal`` and ``Decimal`` is written as a plain
number, so that a value written in a file comes back exactly as written. A key given twice in
one mapping, and nesting deeper than ``MAX_NESTING``, are errors that name their lines."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from valuegap.errors import Problem
from valuegap.inputs import MAX_NESTING, read_text

_COLLECTION_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)


class _DecimalLoader(yaml.SafeLoader):
    """A safe loader that reads YAML floats as Decimal, refuses a key given twice (YAML keeps
    the last one silently) and refuses nesting deeper than ``MAX_NESTING`` (composing a node is
    recursive, and would crash deeper down)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        nested = isinstance(event, _COLLECTION_STARTS)
        if nested and self._depth >= MAX_NESTING:
            message = f"is nested more than {MAX_NESTING} levels deep"
            raise yaml.composer.ComposerError(None, None, message, event.start_mark)
        self._depth += nested
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= nested

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[tuple[str, str], yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            seen = first.setdefault((key_node.tag, key_node.value), key_node)
            if seen is not key_node:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key_node.value!r} is given twice, on line "
                    f"{seen.start_mark.line + 1} and on line {key_node.start_mark.line + 1}: "
                    "keep one",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node))
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        value = Decimal("NaN")  # .nan, .inf: YAML spellings Decimal does not read
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text} is not a finite number: give an amount", node.start_mark
        )
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class _Dumper(yaml.SafeDumper):
    """Writes Decimal as a plain YAML number and keeps the models' field order."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    if value == value.to_integral_value():
        return dumper.represent_scalar("tag:yaml.org,2002:int", str(int(value)))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value.normalize(), "f"))


_Dumper.add_representer(Decimal, _represent_decimal)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_DecimalLoader)


def yaml_problem(exc: yaml.YAMLError, source: str) -> Problem:
    """A YAML error as a ``Problem`` naming the file, the line and the column."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
    return Problem(where, str(getattr(exc, "problem", None) or exc))


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def read_file(path: Path) -> str:
    """The text of a YAML file the user named (``inputs.read_text``)."""
    return read_text(path)

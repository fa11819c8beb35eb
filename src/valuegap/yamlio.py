"""YAML with exact decimals: floats are read as ``Decimal`` and ``Decimal`` is written as a plain
number, so that a value written in a file comes back exactly as written."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from valuegap.errors import Problem, ValidationError


class _DecimalLoader(yaml.SafeLoader):
    """A safe loader that reads YAML floats as Decimal."""


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


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def read_file(path: Path) -> str:
    """The text of a file the user named; one that cannot be read is a ``ValidationError``."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            f"{path} cannot be read.", [Problem(str(path), exc.strerror or str(exc))]
        ) from exc

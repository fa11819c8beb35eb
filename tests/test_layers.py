"""The packages form layers: each imports only the layers below it, so there is no import cycle
(docs/architecture.md draws them). Every import counts, also one inside a function or under
``TYPE_CHECKING``: it is a dependency all the same."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "valuegap"

# Bottom to top; a name is a subpackage or a top-level module of valuegap, or a module of a
# subpackage that sits in a layer of its own (``adoption.ladder``).
LAYERS: list[set[str]] = [
    {"records"},
    {"errors"},
    {"bounds", "inputs", "months", "sources", "words"},
    {"decimals"},
    {"results"},
    {"render"},
    {"yamlio"},
    {"model"},
    {"settings"},
    # The adoption package's pure modules sit low, below the store: counts in, figures out.
    {"adoption.anonymity", "adoption.ladder"},
    {"adoption.conviction"},
    {"store"},
    {"session"},
    {"forecast"},
    {"adoption"},
    {"portfolio"},
    {"costs"},
    {"outcomes"},
    {"governance"},
    {"ledger"},
    {"charts"},
    {"demo_adoption", "demo_costs", "demo_outcomes"},
    {"demo"},
    {"web"},
    {"cli"},
    {"__init__", "__main__"},
]
LAYER = {name: number for number, names in enumerate(LAYERS) for name in names}


def unit_of(path: Path) -> str:
    """The subpackage, top-level module or module with a layer of its own that ``path`` is."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return _unit(parts)


def _unit(parts: tuple[str, ...]) -> str:
    """The unit of a module named by ``parts`` (below valuegap)."""
    own = ".".join(parts[:2])
    return own if own in LAYER else parts[0]


def imported_units(path: Path) -> Iterator[tuple[str, int]]:
    """The valuegap units that ``path`` imports, each with the line that imports it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "valuegap" and len(parts) > 1:
                yield _unit(tuple(parts[1:])), node.lineno


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_package_and_module_has_a_layer() -> None:
    units = {unit_of(path) for path in modules()}
    assert units - set(LAYER) == set(), "add the new package or module to LAYERS"


@pytest.mark.parametrize("layer", [sorted(names) for names in LAYERS], ids=str)
def test_a_layer_imports_nothing_above_it(layer: list[str]) -> None:
    upward = [
        f"{path.relative_to(PACKAGE)}:{line} imports valuegap.{unit}"
        for path in modules()
        if unit_of(path) in layer
        for unit, line in imported_units(path)
        if unit in LAYER and unit != unit_of(path) and LAYER[unit] >= LAYER[unit_of(path)]
    ]
    assert upward == []


def test_the_walk_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    # What the layer test relies on: a lazy or type-only import is found, with its line.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from valuegap.costs.api import Costs\n"
        "def later() -> None:\n"
        "    import valuegap.governance.policy\n",
        encoding="utf-8",
    )
    assert list(imported_units(probe)) == [("costs", 3), ("governance", 5)]
    assert unit_of(PACKAGE / "store" / "users.py") == "store"
    assert unit_of(PACKAGE / "ledger.py") == "ledger"
    assert unit_of(PACKAGE / "adoption" / "ladder.py") == "adoption.ladder"
    assert unit_of(PACKAGE / "adoption" / "keys.py") == "adoption"

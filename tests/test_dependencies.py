"""Every library the package imports is one it declares: `pip install valuegap` alone must be
enough to run it (a library that only a test's dependency brought in once hid a missing one)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "src" / "valuegap"
OPTIONAL = {"pyspark", "pandas"}  # the `spark` extra: imported only where Spark is asked for


def _imported_top_levels() -> set[str]:
    found = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return {name.split(".")[0] for name in found} - {"valuegap", "__future__"}


def _declared() -> set[str]:
    names = set()
    for requirement in requires("valuegap") or []:
        if "extra ==" not in requirement:
            names.add(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower())
    return {name.replace("_", "-") for name in names}


def test_every_imported_library_is_a_declared_dependency() -> None:
    third_party = _imported_top_levels() - set(sys.stdlib_module_names) - OPTIONAL
    distributions = packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(third_party):
        found = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not found & declared:
            missing[module] = sorted(found)
    assert missing == {}, f"imported but not in pyproject's dependencies: {missing}"

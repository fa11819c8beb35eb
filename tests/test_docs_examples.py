"""The Python examples of the README and the user guide run as written, on the demo ledger."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            found.append((f"{page.relative_to(ROOT)}#{number}", code))
    return found


def test_the_readme_has_a_python_example() -> None:
    assert any(name.startswith("README.md") for name, _ in examples())


@pytest.mark.parametrize(("name", "code"), examples(), ids=[n for n, _ in examples()])
def test_an_example_runs_on_the_demo(
    name: str, code: str, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples open ./valuegap.duckdb: a copy of the demo (which finds the demo's
    # pseudonymisation key in the configuration folder, tests/conftest.py).
    shutil.copy(demo, tmp_path / "valuegap.duckdb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VALUEGAP_USER", "you")  # who built the demo: its admin
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, name, "exec"), {"__name__": "__example__"})
    assert printed.getvalue().strip(), f"{name} printed nothing"
    # A comment after a print says what it prints.
    for said in re.findall(r"^\s*print\(.*\)\s+#\s*(.+)$", code, re.MULTILINE):
        assert said.strip() in printed.getvalue()

"""What a command loads, in a fresh process: help none of the ledger's libraries, a report or
a list none it does not need. (How long they take is benchmarks/cli.py's to measure.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# A report or a list needs DuckDB, pydantic and Rich's cell widths; not these. (Binding a
# query parameter would load pandas, numpy and pyarrow: store/literals.py.)
NOT_FOR_READING = {"ibis", "sqlglot", "pyarrow", "pandas", "numpy", "scipy", "cryptography", "cel"}
# Help loads Typer and a few of valuegap's own modules: none of these. (Typer loads pydantic
# to read a command's options, so only the top-level help goes without it.)
LEDGER_LIBRARIES = NOT_FOR_READING | {"duckdb", "rich", "yaml", "genai_prices"}
REPORTS = [
    "costs",
    "costs --from 2025-03 --to 2025-06",
    "reconcile",
    "initiative loc-qa",
    "portfolio",
    "scoreboard",
    "jcurve",
    "jcurve loc-qa",
    "adoption",
    "conviction",
    # These allocate the facts again, by day or by split rule (finer than the aggregates), with
    # the rollup's query written for DuckDB (store/cost_lines.py), not compiled by Ibis.
    "forecast",
    "anomalies",
    "showback --unit engineering --period 2026-03",
    "executive --format json",  # its retired initiatives' stage history read with literals
]
# The ledger builds a part when it is first used: a command imports only the modules of the
# parts it uses. (And a ledger at the latest schema needs no migrations, a table no Rich
# table, the terminal's width and colour no Rich console: cli/terminal.py.)
NOT_FOR_EVERY_READ = {"valuegap.store.migrations", "rich.table", "rich.console"}
NOT_FOR = {
    "user list": {"valuegap.costs.api", "valuegap.outcomes.api", "valuegap.governance.gates"},
    "initiative list": {"valuegap.costs.api", "valuegap.outcomes.api", "valuegap.governance.api"},
    "report costs": {"valuegap.outcomes.api", "valuegap.governance.api"},
    "report portfolio": {
        "valuegap.governance.api",
        "valuegap.costs.prices_api",
        "valuegap.outcomes.scenarios",
        "valuegap.adoption.key_api",
    },
}
LISTS = [
    "initiative",
    "metric",
    "user",
    "price",
    "rules",
    "policy",
    "approval",
    "review",
    "agent",
    "scenario",
    "alert",
    "budget",
    "chargeback",
]
READS = [f"report {name}" for name in REPORTS] + [f"{group} list" for group in LISTS]

# The command line as main() runs it, then what it loaded (main() itself would end the process).
_RUN = """
import json, sys
from valuegap.cli import app
sys.argv[0] = "valuegap"
try:
    app()
except SystemExit as stop:
    if stop.code:
        raise
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules(*args: str) -> set[str]:
    """The modules that `valuegap ARGS` loads."""
    done = subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.splitlines()[-1]))


def loaded(*args: str) -> set[str]:
    """The top-level packages that `valuegap ARGS` loads."""
    return {name.split(".")[0] for name in modules(*args)}


@pytest.mark.parametrize("args", [["report", "--help"], ["report", "costs", "--help"]])
def test_help_loads_none_of_the_ledgers_libraries(args: list[str]) -> None:
    assert loaded(*args) & LEDGER_LIBRARIES == set()


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_the_top_level_help_loads_none_of_them_nor_pydantic(option: str) -> None:
    assert loaded(option) & (LEDGER_LIBRARIES | {"pydantic"}) == set()


@pytest.mark.parametrize("command", READS)
def test_reports_and_lists_load_only_what_they_need(demo: Path, command: str) -> None:
    found = modules(*command.split(), "--db", str(demo), "--as", "you")
    packages = {name.split(".")[0] for name in found}
    assert "duckdb" in packages
    assert packages & NOT_FOR_READING == set()
    assert found & (NOT_FOR_EVERY_READ | NOT_FOR.get(command, set())) == set()


def _groups(found: set[str]) -> set[str]:
    """The groups of commands whose modules (valuegap.cli.<group>) are among ``found``."""
    from valuegap.cli.program import GROUPS

    return {name for name in GROUPS if f"valuegap.cli.{name}" in found}


def test_a_command_loads_its_own_group_only(demo: Path) -> None:
    # A group's module is imported, and its commands made, when the group is used (cli/program.py).
    assert _groups(modules("--help")) == set()
    assert _groups(modules("report", "--help")) == {"report", "source"}  # report reads sources
    assert _groups(modules("user", "list", "--db", str(demo), "--as", "you")) == {"user"}


def test_the_program_ends_with_the_commands_exit_code_and_all_its_output(demo: Path) -> None:
    # main() ends the process without the interpreter's teardown: what was written is flushed.
    def program(*args: str) -> subprocess.CompletedProcess[str]:
        main = "from valuegap.cli import main; main()"
        return subprocess.run([sys.executable, "-c", main, *args], capture_output=True, text=True)

    ledger = ["--db", str(demo), "--as", "you"]
    done = program("report", "costs", "--format", "json", *ledger)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) > 100
    wrong = program("report", "costs", "--bogus")
    assert wrong.returncode == 2 and "No such option: --bogus" in wrong.stderr
    missing = program("initiative", "show", "nope", *ledger)
    assert missing.returncode == 1 and "no initiative 'nope'" in missing.stderr


def test_a_command_collects_cycles_rarely_and_a_server_as_python_does() -> None:
    # What main() sets for a command, and what serve puts back before it starts the server.
    probe = (
        "import gc; from valuegap.cli import common; python = gc.get_threshold(); "
        "common.collect_for_a_command(); command = gc.get_threshold(); "
        "common.collect_as_python_does(); print(python, command, gc.get_threshold())"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split(") (") == ["(700, 10, 10", "100000, 10, 10", "700, 10, 10)\n"]

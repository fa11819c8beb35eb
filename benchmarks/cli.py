"""valuegap's command line start-up benchmark, with its baselines in the same run.

    python benchmarks/cli.py                        # the demo ledger, built in a temporary folder
    python benchmarks/cli.py --runs 9               # the median of 9 runs of each (default 5)
    python benchmarks/cli.py --db demo.duckdb --as root   # an existing ledger, as one of its users

Every ``valuegap report ...`` command and every ``valuegap ... list`` command (found in the
command line's own tree), each in a fresh process, against the baseline of a bare DuckDB
process: one that imports duckdb, opens the same ledger read-only and sums its usage events'
cost. And ``valuegap --help`` against ``python -c "import typer"``. A round runs every
command once, in turn, each just after a run of its baseline; the median of ``--runs`` rounds
is compared. Targets: a report or list within 3x of the bare
DuckDB process, ``--help`` within 2x of importing Typer, in elapsed time. The CPU time each
process used (its threads' user and system time) is printed beside: on a shared machine it
says more than the elapsed time about what the process itself costs.

A ratio is the median of the pairs' ratios: the host's speed changes within seconds here (the
same command took 0.34 to 0.61 s in one round), and a baseline run once a round, at another
moment, moved every ratio of that round with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMAND_TARGET = 3.0  # a report or list, against the bare DuckDB process
HELP_TARGET = 2.0  # valuegap --help, against import typer
BARE_DUCKDB, IMPORT_TYPER, HELP = "bare DuckDB process", "import typer", "valuegap --help"
# Arguments a command needs on the demo ledger.
ARGUMENTS = {
    ("report", "executive"): ["--format", "json"],
    ("report", "initiative"): ["loc-qa"],
    ("report", "showback"): ["--unit", "engineering", "--period", "2026-03"],
}

SUM_USAGE = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print(con.sql('SELECT sum(computed_cost) FROM usage_events').fetchone()[0])"
)
VALUEGAP = "import sys; sys.argv[0] = 'valuegap'; from valuegap.cli import main; main()"


@dataclass(frozen=True)
class Run:
    elapsed: float  # seconds
    cpu: float  # seconds of user and system time, all threads


def commands() -> list[tuple[str, str]]:
    """Every ``report`` command and every group's ``list``, as the command line defines them."""
    import typer.main

    from valuegap.cli import app

    found = []
    for group_name, group in _subcommands(typer.main.get_command(app)):
        for name, _ in _subcommands(group):
            if group_name == "report" or name == "list":
                found.append((group_name, name))
    return sorted(found)


def _subcommands(command: Any) -> list[tuple[str, Any]]:
    """A group's commands, by name (each group made as running it makes it); none for a
    command."""
    if not hasattr(command, "list_commands"):
        return []
    context = command.context_class(command)
    return [(name, command.get_command(context, name)) for name in command.list_commands(context)]


def contenders(db: Path, actor: str | None, only: str | None) -> dict[str, list[str]]:
    """What to run, by name: the baselines, ``--help`` and the commands (those whose name
    holds ``only``, if given)."""
    python = sys.executable
    common = ["--db", str(db), *(["--as", actor] if actor else [])]
    found = {
        BARE_DUCKDB: [python, "-c", SUM_USAGE, str(db)],
        IMPORT_TYPER: [python, "-c", "import typer"],
        HELP: [python, "-c", VALUEGAP, "--help"],
    }
    for group, name in commands():
        arguments = [group, name, *ARGUMENTS.get((group, name), []), *common]
        if only and only not in f"{group} {name}":
            continue
        found[f"valuegap {group} {name}"] = [python, "-c", VALUEGAP, *arguments]
    return found


def timed(argv: Sequence[str], env: dict[str, str]) -> Run:
    """Run ``argv`` to its end, which must be a success."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return Run(elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def baseline_of(name: str) -> str:
    return IMPORT_TYPER if name == HELP else BARE_DUCKDB


def measure(
    db: Path, actor: str | None, runs: int, bytecode: Path, only: str | None = None
) -> dict[str, list[tuple[Run, Run]]]:
    """Each contender's runs, each with the run of its baseline made just before it."""
    # As an installed program runs: with its modules' bytecode cached (here, not beside the
    # source), whatever PYTHONDONTWRITEBYTECODE says.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    argvs = contenders(db, actor, only)
    print(f"{len(argvs) - 3} commands; a first run of each, to cache its bytecode ...", flush=True)
    for argv in argvs.values():
        timed(argv, env)
    measured = [name for name in argvs if name not in (BARE_DUCKDB, IMPORT_TYPER)]
    found: dict[str, list[tuple[Run, Run]]] = {name: [] for name in measured}
    for round_ in range(runs):
        for name in measured:
            base = timed(argvs[baseline_of(name)], env)
            found[name].append((timed(argvs[name], env), base))
        print(f"round {round_ + 1} of {runs} done (load average {os.getloadavg()[0]:.1f})")
    return found


def report(found: dict[str, list[tuple[Run, Run]]]) -> None:
    print()
    print("| command | elapsed | baseline | ratio | target | met | CPU | baseline | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for name, pairs in found.items():
        target = HELP_TARGET if name == HELP else COMMAND_TARGET
        ratio = statistics.median(run.elapsed / base.elapsed for run, base in pairs)
        cpu_ratio = statistics.median(run.cpu / base.cpu for run, base in pairs)
        elapsed = [statistics.median(pair[i].elapsed for pair in pairs) for i in (0, 1)]
        cpu = [statistics.median(pair[i].cpu for pair in pairs) for i in (0, 1)]
        print(
            f"| `{name}` | {elapsed[0]:.3f} s | {elapsed[1]:.3f} s | {ratio:.2f}x "
            f"| {target:.0f}x | {'yes' if ratio <= target else 'NO'} "
            f"| {cpu[0]:.3f} s | {cpu[1]:.3f} s | {cpu_ratio:.2f}x |"
        )
    print()
    print(
        f"Baselines: the {BARE_DUCKDB} for the commands, {IMPORT_TYPER} for --help, each run"
        " just before the run it is compared with; a ratio is the median of the pairs'."
    )
    print("Every run's elapsed seconds (its baseline's in brackets):")
    for name, pairs in found.items():
        print(f"  {name}: " + ", ".join(f"{r.elapsed:.3f} ({b.elapsed:.3f})" for r, b in pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="an existing ledger (default: build the demo)")
    parser.add_argument(
        "--as", dest="actor", help="act as this user of --db (default: your login name)"
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds (median taken; default 5)")
    parser.add_argument("--only", help="only the commands whose name holds this, e.g. 'report'")
    args = parser.parse_args()

    import duckdb
    import typer

    print(
        f"valuegap CLI benchmark: {platform.machine()}, {os.cpu_count()} cores (load average "
        f"{os.getloadavg()[0]:.1f}), Python {platform.python_version()}, DuckDB "
        f"{duckdb.__version__}, Typer {typer.__version__}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        bytecode = Path(folder) / "bytecode"
        if args.db:
            report(measure(args.db.resolve(), args.actor, args.runs, bytecode, args.only))
            return
        from valuegap.demo import build_demo
        from valuegap.settings import Settings

        db = Path(folder) / "demo.duckdb"
        started = time.perf_counter()
        build_demo(Settings(db=db), actor="bench")
        print(f"demo ledger built in {time.perf_counter() - started:.1f} s", flush=True)
        report(measure(db, "bench", args.runs, bytecode, args.only))


if __name__ == "__main__":
    main()

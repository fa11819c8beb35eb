"""Agent authorisation from many concurrent callers on one open ledger, with its floor in the
same run.

    python benchmarks/callers.py                        # 16 callers x 500 decisions, 3 rounds
    python benchmarks/callers.py --callers 32 --calls 50
    python benchmarks/callers.py --work callers-data    # keep the ledgers
    python benchmarks/callers.py --threads 0            # DuckDB's own threads, one per core

The demo's refund agent asks, from ``--callers`` threads sharing one ``Ledger`` (as a server's
request handlers would), to issue refunds of 45.90 (allowed), 350 (needs approval) and 1,500
(denied), in turn. Three lines, a round of each in turn, ``--repeats`` times:

- valuegap: ``ledger.agents.authorize()`` from every thread; each decision's audit entry is
  durable (with the decisions of other callers that queued meanwhile, group commit, appended
  to the ledger's journal and fsync'd; store/journal.py) before it is answered, and moves into
  the ledger's tables in larger batches meanwhile;
- the floor, one commit per decision: on a copy of the ledger, the same threads each decide by
  hand and then, one at a time on the one connection, INSERT the audit row, UPDATE the chain's
  head and COMMIT (what ``authorize`` did before group commit, at the least it can cost);
- DuckDB alone, for scale: on the same copy, one thread decides by hand and writes the
  decisions in batches of ``--callers`` (one INSERT of the batch's audit rows, UPDATE the head,
  COMMIT), with no threads, no waiting and no approval requests: about the most that any
  design committing one transaction per batch could reach on this machine.

All use DuckDB with one thread (``--threads``; the setting ``threads``), as a server that many
callers share is set up (docs/architecture.md, "Concurrency"). Once the ledgers are built and
warm, the process's objects are frozen out of the garbage collector's passes, as ``valuegap
serve`` does after start-up (``web.server.freeze_start_up``): otherwise every full collection
walks the demo's build again, about a seventh of each decision's CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
from agents import ACTION, ACTOR, AGENT, CASES, AuditFloor

from valuegap import Ledger
from valuegap.demo import build_demo
from valuegap.governance import context as ctx
from valuegap.governance.policy import applicable, decide
from valuegap.settings import Settings
from valuegap.web.server import freeze_start_up

THROUGHPUT_TARGET = 2000  # decisions a second
P99_TARGET_MS = 10.0

Ask = Callable[[Decimal, dict[str, str]], str]  # an amount and context -> the answer


def asked(number: int, call: int, calls: int, first: int) -> tuple[Decimal, str, dict[str, str]]:
    """What caller ``number`` asks in its ``call``-th call of a round: the amount, the answer
    expected, and the context (a new order each time)."""
    amount, _, expected = CASES[(number + call) % len(CASES)]
    return amount, expected, {"order_id": f"NW-{first + number * calls + call}"}


def round_of(
    ask: Ask, callers: int, calls: int, first: int
) -> tuple[float, list[float], Counter[str], float]:
    """``callers`` threads, started together, each asking ``calls`` times: the decisions a
    second over the round's wall time, every call's seconds, the answers, and the process's
    CPU seconds per decision (all threads, DuckDB's included: what load on the machine does
    not change much)."""
    start = threading.Barrier(callers + 1)
    latencies: list[list[float]] = [[] for _ in range(callers)]
    answers: list[Counter[str]] = [Counter() for _ in range(callers)]

    def caller(number: int) -> None:
        start.wait()
        for call in range(calls):
            amount, expected, given = asked(number, call, calls, first)
            began = time.perf_counter()
            answer = ask(amount, given)
            latencies[number].append(time.perf_counter() - began)
            assert answer == expected, (amount, answer, expected)
            answers[number][answer] += 1

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    made = callers * calls
    times = [t for each in latencies for t in each]
    return made / wall, times, sum(answers, Counter()), cpu / made


def batches_by_hand(
    floor: AuditFloor, callers: int, calls: int, first: int
) -> tuple[float, list[float], float]:
    """The round's decisions written by one thread in batches of ``callers``, as group commit
    writes them at best, by hand: the decisions a second, each decision's seconds (its batch's),
    and the CPU seconds per decision."""
    latencies: list[float] = []
    began, cpu = time.perf_counter(), time.process_time()
    for call in range(calls):
        asks = [
            (amount, given)
            for amount, _, given in (asked(n, call, calls, first) for n in range(callers))
        ]
        started = time.perf_counter()
        floor.authorize_all(asks)
        latencies.extend([time.perf_counter() - started] * callers)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    return callers * calls / wall, latencies, cpu / (callers * calls)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[-1]


def run(work: Path, callers: int, calls: int, repeats: int, threads: int | None) -> None:
    print(
        f"valuegap many-callers benchmark on {platform.node()}: {platform.machine()}, "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, DuckDB threads "
        f"{threads or 'its own'}; building the demo ledger …",
        flush=True,
    )
    db, copy = work / "callers-ledger.duckdb", work / "callers-floor.duckdb"
    build_demo(Settings(db=db), actor="bench")
    shutil.copyfile(db, copy)
    if Path(f"{db}.wal").exists():
        shutil.copyfile(f"{db}.wal", f"{copy}.wal")

    settings = Settings(db=db, threads=threads)  # a server's settings
    ledger = Ledger.open(db, actor=ACTOR, settings=settings)  # shared by every caller
    initiative = ledger.portfolio.initiative(AGENT)
    assert initiative.agent is not None
    rules = applicable(ledger.governance.policies(), initiative, "action", ACTION)
    context = ledger.governance._evaluation_context(
        initiative,
        rules.names,
        ledger.session.now(),
        agent=ctx.agent_context(initiative, initiative.agent),
        action=ctx.action_context(ACTION, CASES[0][0], {"order_id": "NW-1"}),
    )
    floor = AuditFloor(copy, context, decide(rules, context).policy_versions)
    if threads:
        floor.con.execute(f"SET threads = {threads}")  # the same DuckDB as valuegap's
    one_writer = threading.Lock()  # one DuckDB connection writes one transaction at a time

    def valuegap(amount: Decimal, given: dict[str, str]) -> str:
        return ledger.agents.authorize(AGENT, ACTION, amount, given).decision

    def one_commit_each(amount: Decimal, given: dict[str, str]) -> str:
        with one_writer:
            return floor.authorize(amount, given)

    entries = ledger.governance.audit.verify_audit().entries
    round_of(valuegap, callers, 3, 0)  # warm up: caches, cursors, threads
    round_of(one_commit_each, callers, 3, 0)
    freeze_start_up()  # as `valuegap serve` does once started: the collector skips start-up
    results: dict[str, list[tuple[float, list[float], float]]] = {
        "valuegap": [],
        "floor": [],
        "by hand": [],
    }
    answers: Counter[str] = Counter()
    for repeat in range(repeats):
        first = 1_000_000 * (repeat + 1)
        rate, times, answered, cpu = round_of(valuegap, callers, calls, first)
        results["valuegap"].append((rate, times, cpu))
        answers += answered
        rate, times, _, cpu = round_of(one_commit_each, callers, calls, first)
        results["floor"].append((rate, times, cpu))
        results["by hand"].append(batches_by_hand(floor, callers, calls, first))
    verification = ledger.governance.audit.verify_audit()
    ledger.close()
    floor.close()
    with Ledger.open(copy, actor="bench") as copied:
        floor_verification = copied.governance.audit.verify_audit()

    print(f"\n{callers} callers x {calls:,} decisions, {repeats} rounds of each in turn")
    print(
        f"{'line':44} {'decisions/s':>12} {'p50':>8} {'p99':>8} {'CPU/dec.':>9}  "
        "rounds (decisions/s)"
    )
    medians = {}
    for name, label in (
        ("valuegap", "authorize(), group commit, journal"),
        ("floor", "floor: one commit per decision"),
        ("by hand", f"DuckDB alone, one commit per {callers} by hand"),
    ):
        rounds = results[name]
        rates = [rate for rate, _, _ in rounds]
        median_rate, times, cpu = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        medians[name] = (median_rate, p99(times) * 1e3)
        print(
            f"{label:44} {median_rate:12,.0f} {statistics.median(times) * 1e3:6.2f}ms "
            f"{p99(times) * 1e3:6.2f}ms {cpu * 1e3:7.3f}ms  {', '.join(f'{r:,.0f}' for r in rates)}"
        )
    (rate, p99_ms), (floor_rate, _) = medians["valuegap"], medians["floor"]
    print(f"\ngroup commit / one commit per decision: {rate / floor_rate:6.1f}x")
    fast, quick = rate >= THROUGHPUT_TARGET, p99_ms <= P99_TARGET_MS
    print(
        f"at least {THROUGHPUT_TARGET:,} decisions/s: {'yes' if fast else 'no'} ({rate:,.0f}); "
        f"p99 <= {P99_TARGET_MS:.0f} ms: {'yes' if quick else 'no'} ({p99_ms:.2f} ms)"
    )
    print("answers: " + ", ".join(f"{answers[a]:,} {a}" for _, _, a in CASES) + " (as expected)")
    made = repeats * callers * calls + 3 * callers
    by_hand = medians["by hand"]
    print(
        f"DuckDB alone, batches of {callers} written by hand: {by_hand[0]:,.0f} decisions/s, "
        f"p99 {by_hand[1]:.2f} ms (no approval requests: about the most that one transaction "
        "per batch could reach here)"
    )
    print(
        f"valuegap's audit chain: {verification.message}; {verification.entries - entries:,} "
        f"new, one per decision ({made:,} made)"
    )
    print(f"the floor's copy:       {floor_verification.message}")
    assert verification.ok and floor_verification.ok
    assert verification.entries - entries == made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=16, help="threads (default 16)")
    parser.add_argument(
        "--calls",
        type=int,
        default=500,
        help="decisions per caller a round (at 100, the 99th percentile is the slowest batch)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each (median taken)")
    parser.add_argument("--work", type=Path, help="keep the ledgers here (default: temporary)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="DuckDB's threads, the setting `threads` (default 1, as a server sets it; "
        "0: DuckDB's own, one per core)",
    )
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        run(args.work.resolve(), args.callers, args.calls, args.repeats, args.threads or None)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), args.callers, args.calls, args.repeats, args.threads or None)


if __name__ == "__main__":
    main()

"""Reports from the monthly cost aggregates, with their floor in the same run.

    python benchmarks/reports.py                          # 2 M usage events, 200,000 FOCUS lines
    python benchmarks/reports.py --events 10000000 --focus 1000000   # the 10 M-event ledger

It builds the benchmark ledger of ``run.py`` (the same generated files, portfolio and rules,
into ``--work``), then, in this process and once warm, times ``--repeats`` calls of each report
(``cost_report`` by initiative, business unit and month; ``portfolio_report``;
``initiative_report``; ``reconcile``, which reads the monthly usage aggregates) and, in turn
with them, the floor: one hand-written DuckDB query over the cost aggregates. It prints the
median and the 95th percentile of each, the ratios, what the same reports took computed from
the facts (as before the aggregates), and what keeping the aggregates costs a write: a full
rebuild of the cost aggregates, and the refresh of one month.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generated  # noqa: E402
from run import BY, PORTFOLIO, RULES  # noqa: E402

FLOOR = """SELECT initiative, business_unit, month, sum(cost) AS cost,
    sum(estimated) AS estimated, sum(usage_cost) AS usage_cost
FROM cost_aggregates GROUP BY ALL ORDER BY ALL"""
TARGET_MS = 100.0
JUNE = date(2025, 6, 1)


def build(work: Path, events: int, focus: int) -> Path:
    """The benchmark ledger (made once; kept in ``work``)."""
    from valuegap import Ledger

    db = work / f"reports-{events}-{focus}.duckdb"
    if db.exists():
        return db
    usage_file, focus_file = generated(work, events, focus)
    (work / "portfolio.yaml").write_text(PORTFOLIO)
    (work / "rules.yaml").write_text(RULES)
    started = time.perf_counter()
    with Ledger.init(db, actor="bench") as ledger:
        ledger.portfolio.apply_file(work / "portfolio.yaml")
        ledger.costs.apply_rules(work / "rules.yaml")
        ledger.costs.ingest_focus([focus_file])
        ledger.costs.ingest_usage(usage_file, "csv")
    print(
        f"built {db.name}: {events:,} events, {focus:,} FOCUS lines, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return db


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--focus", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    args = parser.parse_args()

    from valuegap import Ledger

    db = build(args.work, args.events, args.focus)
    with Ledger.open(db, actor="bench") as ledger:
        cursor = ledger.session.db.connection.cursor()
        contenders: dict[str, Callable[[], Any]] = {
            "cost_report": lambda: ledger.costs.cost_report(BY),
            "portfolio_report": ledger.outcomes.portfolio_report,
            "initiative_report": lambda: ledger.outcomes.initiative_report("loc-qa"),
            "reconcile": ledger.costs.reconcile,
            "floor: DuckDB query": lambda: cursor.execute(FLOOR).fetchall(),
        }
        rows = ledger.session.db.one("SELECT count(*) FROM cost_aggregates")
        print(f"aggregates: {rows[0] if rows else 0:,} rows")
        for call in contenders.values():  # warm
            call()
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, call in contenders.items():
                times[name].append(timed(call))
        floor = times["floor: DuckDB query"]
        print(f"\n{'':22} {'median ms':>10} {'p95 ms':>9} {'p95 / floor':>12} {'met':>5}")
        for name, found in times.items():
            met = "" if name.startswith("floor") else "yes" if p95(found) <= TARGET_MS else "no"
            print(
                f"{name:22} {statistics.median(found):10.2f} {p95(found):9.2f} "
                f"{p95(found) / p95(floor):11.1f}x {met:>5}"
            )

        # As before the aggregates: every report allocates every fact again.
        import valuegap.store.costs as cost_store

        aggregated = type(ledger.costs)._aggregated_report
        type(ledger.costs)._aggregated_report = lambda *_: None  # type: ignore[method-assign]
        built, cost_store.USAGE_BUILT = cost_store.USAGE_BUILT, "usage aggregates never built"
        try:
            from_facts = {
                name: statistics.median([timed(call) for _ in range(3)])
                for name, call in contenders.items()
                if not name.startswith("floor")
            }
        finally:
            type(ledger.costs)._aggregated_report = aggregated  # type: ignore[method-assign]
            cost_store.USAGE_BUILT = built
        print("\nthe same reports from the facts (median of 3):")
        for name, ms in from_facts.items():
            fast = statistics.median(times[name])
            print(f"{name:22} {ms:10.1f} ms  ({ms / fast:.0f}x the aggregates' median)")

        # What keeping them costs a write: all months, or one.
        def refresh(months: list[date] | None) -> Callable[[], Any]:
            def run() -> None:
                with ledger.session.db.transaction():
                    ledger.costs.refresh_aggregates(months)

            return run

        print("\nkeeping them (median of 3):")
        for name, months in (("rebuild, all months", None), ("refresh one month", [JUNE])):
            ms = statistics.median(timed(refresh(months)) for _ in range(3))
            print(f"{name:22} {ms:10.1f} ms")
        total = ledger.costs.cost_report([])[0].cost
        floor_total = cursor.execute("SELECT sum(cost) FROM cost_aggregates").fetchone()
        print(
            f"\ntotals: {total} (report) against {floor_total[0] if floor_total else None} (floor)"
        )


if __name__ == "__main__":
    main()

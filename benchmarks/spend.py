"""Spend control's daily figures on a year of cost: forecasts and anomalies.

    python benchmarks/spend.py                      # 2 M usage events, 200,000 FOCUS lines
    python benchmarks/spend.py --events 10000000 --focus 1000000

It builds (or reuses) the benchmark ledger of ``reports.py`` (a year of usage and FOCUS lines,
2025), then times, once warm, ``--repeats`` calls of: the month's forecast by initiative and by
model (mid-June 2025, reading three months of daily sums), the last week's anomalies by
initiative and by model (reading about three months), and a quarter's anomalies; beside them
the cost report by initiative, business unit and month (from the aggregates, which the daily
grain does not touch) and the refresh of one month's aggregates (the rollup a write runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reports import JUNE, build, timed  # noqa: E402
from run import BY  # noqa: E402

AS_OF = date(2025, 6, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--focus", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    args = parser.parse_args()

    from valuegap import Ledger

    db = build(args.work, args.events, args.focus)
    with Ledger.open(db, actor="bench") as ledger:
        spend = ledger.costs.spend

        def refresh() -> None:
            with ledger.session.db.transaction():
                ledger.costs.refresh_aggregates([JUNE])

        contenders: dict[str, Callable[[], Any]] = {
            "forecast by initiative": lambda: spend.forecast(["initiative"], JUNE, as_of=AS_OF),
            "forecast by model": lambda: spend.forecast(["model"], JUNE, as_of=AS_OF),
            "anomalies, a week": lambda: spend.anomalies(["initiative"], date(2025, 6, 9), AS_OF),
            "anomalies by model": lambda: spend.anomalies(["model"], date(2025, 6, 9), AS_OF),
            "anomalies, a quarter": lambda: spend.anomalies(
                ["initiative"], date(2025, 4, 1), date(2025, 7, 1)
            ),
            "findings (alert check)": lambda: spend.findings(AS_OF),
            "cost_report": lambda: ledger.costs.cost_report(BY),
            "refresh one month": refresh,
        }
        for call in contenders.values():  # warm
            call()
        print(f"\n{'':24} {'median ms':>10} {'max ms':>9}")
        for name, call in contenders.items():
            found = [timed(call) for _ in range(args.repeats)]
            print(f"{name:24} {statistics.median(found):10.1f} {max(found):9.1f}")
        found = spend.anomalies(["initiative"], date(2025, 4, 1), date(2025, 7, 1))
        print(f"\nanomalies April to June 2025 by initiative: {len(found.anomalies)}")


if __name__ == "__main__":
    main()

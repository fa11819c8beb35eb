"""External sources at scale: a usage log of N events as Parquet (one folder per month), synced
by valuegap on Spark (local) and on DuckDB, side by side, each in a fresh process; in the same
run the floor, the same sums as one hand-written DuckDB query over the files.

    python benchmarks/scale_out.py --events 100000000   # the full size
    python benchmarks/scale_out.py --events 10000000    # a quicker run

Each line: the time of a full sync (list the files, check every value, price on the engine,
sum by month and every key, keep the sums, compute the month's aggregates), the peak memory of
its process and of the JVM it started (Spark), the ledger file's size after it (only
definitions and sums: no fact is copied in), and a second sync with nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from generate import usage_parquet


def peak_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_peak_mb() -> float:
    """The peak memory of this process's children (the JVM of a local Spark session)."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        children = (task / "children").read_text().split()
        total += sum(peak_mb(pid) for pid in children)
    return total


def phase_sync(work: Path, folder: str, engine: str, memory: str) -> dict[str, Any]:
    from valuegap import Ledger
    from valuegap.settings import Settings

    db = work / f"ledger-{engine}.duckdb"
    db.unlink(missing_ok=True)
    settings = Settings(db=db, memory_limit=memory, engine=engine, engine_master="local[2]")
    with Ledger.init(db, actor="bench", settings=settings) as ledger:
        ledger.costs.sources.add("usage", "gateway", folder)
        started = time.perf_counter()
        synced = ledger.costs.sources.sync()[0]
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = ledger.costs.sources.sync()[0]
        nothing_new = time.perf_counter() - started
        total = sum((line.cost for line in ledger.costs.cost_report(["month"])), start=0)
        jvm = children_peak_mb()
        if engine == "spark":
            from valuegap.costs.engines import close_sessions

            close_sessions()
    return {
        "seconds": seconds,
        "rows": synced.rows,
        "partitions": len(synced.read),
        "nothing_new_seconds": nothing_new,
        "read_again": len(again.read),
        "peak_mb": peak_mb(),
        "jvm_peak_mb": jvm,
        "ledger_mb": db.stat().st_size / 2**20,
        "total": str(total),
    }


def phase_floor(folder: str, memory: str) -> dict[str, Any]:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory}'")
    rows = con.execute(
        f"""SELECT date_trunc('month', timestamp) AS month, provider, request_model, team,
            api_key, initiative, count(*), sum(input_tokens + output_tokens)
        FROM read_parquet('{folder}/*/*.parquet') GROUP BY ALL"""
    ).fetchall()
    return {"seconds": time.perf_counter() - started, "groups": len(rows), "peak_mb": peak_mb()}


def run_phase(name: str, **kwargs: Any) -> dict[str, Any]:
    command = [sys.executable, __file__, "--phase", name, "--kwargs", json.dumps(kwargs)]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--memory", default="4GB", help="DuckDB's memory limit")
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kwargs = json.loads(args.kwargs)
        if "work" in kwargs:
            kwargs["work"] = Path(kwargs["work"])
        found = {"sync": phase_sync, "floor": phase_floor}[args.phase](**kwargs)
        print(json.dumps(found))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    folder = args.work / f"usage-parquet-{args.events}"
    started = time.perf_counter()
    usage_parquet(folder, args.events)
    size = sum(f.stat().st_size for f in folder.rglob("*.parquet")) / 2**20
    print(
        f"{args.events:,} events as Parquet: {size:,.0f} MB "
        f"({time.perf_counter() - started:.0f} s to make or find)"
    )
    print(f"{'':<22}{'sync':>9}{'again':>8}{'peak':>9}{'JVM peak':>10}{'ledger':>9}")
    totals = set()
    for engine in ("duckdb", "spark"):
        found = run_phase(
            "sync", work=str(args.work), folder=str(folder), engine=engine, memory=args.memory
        )
        totals.add(found["total"])
        print(
            f"{'valuegap on ' + engine:<22}{found['seconds']:>8.1f}s"
            f"{found['nothing_new_seconds']:>7.1f}s{found['peak_mb']:>7.0f}MB"
            f"{found['jvm_peak_mb']:>8.0f}MB{found['ledger_mb']:>7.1f}MB"
            f"   ({found['rows']:,} rows, {found['partitions']} partitions; "
            f"read again: {found['read_again']})"
        )
    floor = run_phase("floor", folder=str(folder), memory=args.memory)
    print(
        f"{'DuckDB by hand (floor)':<22}{floor['seconds']:>8.1f}s{'':>8}{floor['peak_mb']:>7.0f}MB"
        f"   (the sums only: no checks, no prices, no allocation)"
    )
    print(
        f"total cost, both engines: {', '.join(sorted(totals))}"
        + ("" if len(totals) == 1 else "  <- they differ!")
    )


if __name__ == "__main__":
    main()

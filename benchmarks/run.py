"""valuegap's cost benchmarks, with their baselines in the same run.

    python benchmarks/run.py                       # 10 M usage events, 1 M FOCUS lines
    python benchmarks/run.py --events 1000000      # smaller, quicker
    python benchmarks/run.py --chunks 9            # and 100 M events in all, in 10 M chunks

Each contender runs in a fresh process, so that its peak memory is its own, three times in turn
with its baseline (the median counts: the machines are shared and noisy). Baselines:
hand-written DuckDB SQL (the practical limit) and pandas (what an analyst would otherwise do).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RULES = """
rules:
  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}
  - {id: docs, match: {tag.initiative: doc-classifier}, initiative: doc-classifier}
  - {id: review, match: {tag.initiative: code-review}, initiative: code-review}
  - id: platform
    match: {tag.application: ai-platform}
    split: {method: proportional, driver: tokens, among: [loc-qa, doc-classifier]}
"""
PORTFOLIO = """
initiatives:
  - {id: loc-qa, name: Localisation QA, kind: use_case, business_unit: marketing}
  - {id: doc-classifier, name: Document classifier, kind: workflow, business_unit: operations}
  - {id: code-review, name: Code review, kind: workflow, business_unit: engineering}
"""
BY = ["initiative", "business_unit", "month"]


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Phases: each runs in its own process and returns what it measured.


def phase_valuegap_ingest(
    work: Path, kind: str, file: str, memory: str, ledger_file: str
) -> dict[str, Any]:
    from valuegap import Ledger
    from valuegap.settings import Settings

    db = work / ledger_file
    settings = Settings(db=db, memory_limit=memory)
    ledger = (Ledger.open if db.exists() else Ledger.init)(db, actor="bench", settings=settings)
    started = time.perf_counter()
    if kind == "usage":
        result = ledger.costs.ingest_usage(Path(file), "csv")
        rows = result.rows_added
    else:
        rows = ledger.costs.ingest_focus([Path(file)])[0].rows_added
    seconds = time.perf_counter() - started
    ledger.close()
    return {"seconds": seconds, "rows": rows}


def phase_duckdb_read(work: Path, file: str, memory: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(work / "plain.duckdb"))
    con.execute(f"SET memory_limit = '{memory}'")
    started = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{file}')")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    con.close()
    return {"seconds": seconds, "rows": rows}


def phase_valuegap_rollup(work: Path, memory: str) -> dict[str, Any]:
    import ibis

    import valuegap.costs.rollup  # noqa: F401
    from valuegap import Ledger

    ibis.duckdb.connect().disconnect()  # like duckdb for the baseline: loaded before timing
    from valuegap.settings import Settings

    db = work / "ledger.duckdb"
    ledger = Ledger.open(db, actor="bench", settings=Settings(db=db, memory_limit=memory))
    if not ledger.costs.allocation_rules().rules:
        (work / "portfolio.yaml").write_text(PORTFOLIO)
        (work / "rules.yaml").write_text(RULES)
        ledger.portfolio.apply_file(work / "portfolio.yaml")
        ledger.costs.apply_rules(work / "rules.yaml")
    from valuegap.costs.allocation import report

    # The rollup itself, from the facts (reports read the monthly aggregates it computes:
    # benchmarks/reports.py times them).
    started = time.perf_counter()
    rows = report(ledger.costs.allocated_parts(BY), BY)
    seconds = time.perf_counter() - started
    total = sum(r["cost"] for r in rows)
    ledger.close()
    return {"seconds": seconds, "rows": len(rows), "total": str(total)}


HAND_SQL = """
WITH lines AS (  -- at the 18 places of priced usage: rounding every line would be slow
    SELECT CAST(date_trunc('month', charge_period_start) AS DATE) AS month, tags,
        NULL AS initiative_attribute,
        CAST(effective_cost AS DECIMAL(38, 18)) AS amount, 0 AS tokens, 'focus' AS source,
        NULL AS initiative,
        NULL AS business_unit
    FROM focus_lines
    UNION ALL
    SELECT CAST(date_trunc('month', ts) AS DATE), tags, initiative,
        coalesce(CAST(reported_cost AS DECIMAL(38, 18)), computed_cost),
        input_tokens + output_tokens, 'usage', NULL, NULL
    FROM usage_events
    UNION ALL
    SELECT month, NULL, NULL, CAST(amount AS DECIMAL(38, 18)), 0, 'manual', initiative,
        business_unit
    FROM manual_costs
), summed AS (  -- sum first, allocate the sums: the cheapest way to the same totals
    SELECT month, lower(coalesce(tags['initiative'], initiative_attribute)) AS tag_initiative,
        lower(tags['application']) AS tag_application, source, initiative, business_unit,
        CAST(sum(amount) AS DECIMAL(38, 10)) AS amount, sum(tokens) AS tokens
    FROM lines WHERE amount IS NOT NULL GROUP BY ALL
), matched AS (
    SELECT *, CASE
        WHEN initiative IS NOT NULL THEN NULL
        WHEN tag_initiative = 'loc-qa' THEN 'loc-qa'
        WHEN tag_initiative = 'doc-classifier' THEN 'doc-classifier'
        WHEN tag_initiative = 'code-review' THEN 'code-review'
        WHEN tag_application = 'ai-platform' THEN '*platform'
    END AS target
    FROM summed
), drivers AS (
    SELECT month, target AS initiative, sum(tokens) AS tokens FROM matched
    WHERE source = 'usage' AND target IN ('loc-qa', 'doc-classifier') GROUP BY ALL
), shares AS (
    SELECT month, initiative,
        CAST(tokens AS DECIMAL(38, 9)) / sum(tokens) OVER (PARTITION BY month) AS share
    FROM drivers
), allocated AS (
    SELECT m.month, coalesce(m.initiative, s.initiative,
               CASE WHEN m.target <> '*platform' THEN m.target END) AS initiative,
        m.business_unit,
        CASE WHEN s.share IS NULL THEN m.amount ELSE m.amount * s.share END AS amount
    FROM matched m LEFT JOIN shares s ON m.target = '*platform' AND s.month = m.month
)
SELECT coalesce(a.initiative, '(unallocated)') AS initiative,
    coalesce(a.business_unit, i.business_unit, '(unallocated)') AS business_unit,
    a.month, sum(a.amount) AS cost
FROM allocated a LEFT JOIN initiatives i ON i.id = a.initiative
GROUP BY ALL ORDER BY ALL
"""


def phase_duckdb_rollup(work: Path, memory: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(work / "ledger.duckdb"), read_only=True)
    con.execute(f"SET memory_limit = '{memory}'")
    started = time.perf_counter()
    rows = con.execute(HAND_SQL).fetchall()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(rows), "total": str(sum(r[3] for r in rows))}


def phase_pandas_rollup(work: Path, usage: str, focus: str) -> dict[str, Any]:
    """What an analyst would do: read both exports, tag, allocate, group."""
    import json as jsonlib

    import pandas as pd

    started = time.perf_counter()
    u = pd.read_csv(usage)
    f = pd.read_csv(focus)
    loaded = time.perf_counter()
    f["month"] = f["ChargePeriodStart"].str[:7]
    tags = f["Tags"].fillna("{}").map(jsonlib.loads)
    f["target"] = tags.map(
        lambda t: (
            t.get("initiative") or ("*platform" if t.get("application") == "ai-platform" else None)
        )
    )
    f["amount"] = f["EffectiveCost"]
    u["month"] = u["timestamp"].str[:7]
    u["target"] = u["initiative"].where(u["initiative"] != "none")
    u["tokens"] = u["input_tokens"] + u["output_tokens"]
    drivers = (
        u[u["target"].isin(["loc-qa", "doc-classifier"])]
        .groupby(["month", "target"])["tokens"]
        .sum()
        .reset_index()
    )
    drivers["share"] = drivers["tokens"] / drivers.groupby("month")["tokens"].transform("sum")
    platform = f[f["target"] == "*platform"].merge(drivers, on="month")
    platform["amount"] = platform["amount"] * platform["share"]
    platform["target"] = platform["target_y"]
    direct = f[f["target"] != "*platform"]
    lines = pd.concat(
        [direct[["month", "target", "amount"]], platform[["month", "target", "amount"]]]
    )
    result = lines.fillna({"target": "(unallocated)"}).groupby(["target", "month"])["amount"].sum()
    ended = time.perf_counter()
    return {
        "seconds": ended - started,
        "load_seconds": loaded - started,
        "compute_seconds": ended - loaded,
        "rows": len(result),
    }


PHASES = {
    "valuegap_ingest": phase_valuegap_ingest,
    "duckdb_read": phase_duckdb_read,
    "valuegap_rollup": phase_valuegap_rollup,
    "duckdb_rollup": phase_duckdb_rollup,
    "pandas_rollup": phase_pandas_rollup,
}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (the lower of the two middle ones when they are even)."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def run_phase(name: str, **kwargs: Any) -> dict[str, Any]:
    command = [sys.executable, __file__, "--phase", name, "--kwargs", json.dumps(kwargs)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--focus", type=int, default=1_000_000)
    parser.add_argument(
        "--chunks", type=int, default=0, help="also ingest this many more chunks of --events events"
    )
    parser.add_argument("--memory", default="1GB", help="DuckDB memory limit for everyone")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each contender; the median is reported"
    )
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kwargs = json.loads(args.kwargs)
        kwargs["work"] = Path(kwargs["work"])
        result = PHASES[args.phase](**kwargs)
        result["peak_mb"] = round(peak_mb())
        print(json.dumps(result))
        return
    import generate

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*.duckdb*"):
        stale.unlink()
    usage, focus = work / f"usage-{args.events}.csv", work / f"focus-{args.focus}.csv"
    print(
        f"valuegap benchmark on {platform.node()}: {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}; generating data …",
        flush=True,
    )
    if not usage.exists():
        generate.usage_csv(usage, args.events)
    if not focus.exists():
        generate.focus_csv(focus, args.focus)
    common = {"work": str(work), "memory": args.memory}
    # Each contender runs --repeats times, in turn with its baseline; the last ingest of each
    # kind goes into the ledger that the rollups read, the others into a scratch ledger.
    runs: dict[str, list[dict[str, Any]]] = {}
    for kind, file in (("usage", usage), ("focus", focus)):
        for n in range(args.repeats):
            ledger_file = "ledger.duckdb" if n == args.repeats - 1 else "scratch.duckdb"
            for stale in work.glob("scratch.duckdb*"):
                stale.unlink()
            runs.setdefault(f"ingest {kind}", []).append(run_phase(
                "valuegap_ingest", kind=kind, file=str(file), ledger_file=ledger_file, **common
            ))  # fmt: skip
            runs.setdefault(f"duckdb read {kind}", []).append(
                run_phase("duckdb_read", file=str(file), **common)
            )
    for _ in range(args.repeats):
        runs.setdefault("rollup", []).append(run_phase("valuegap_rollup", **common))
        runs.setdefault("duckdb rollup", []).append(run_phase("duckdb_rollup", **common))
    runs["pandas rollup"] = [
        run_phase("pandas_rollup", work=str(work), usage=str(usage), focus=str(focus))
    ]
    results = {name: median_run(found) for name, found in runs.items()}
    for name, result in results.items():
        times = sorted(r["seconds"] for r in runs[name])
        spread = f"({times[0]:.2f} to {times[-1]:.2f})" if len(times) > 1 else ""
        print(
            f"{name:20} {result['seconds']:8.2f} s {spread:18} peak {result['peak_mb']:6} MB  "
            f"rows {result['rows']:,}",
            flush=True,
        )
    ratio = lambda a, b: results[a]["seconds"] / results[b]["seconds"]  # noqa: E731
    usage_ratio = ratio("ingest usage", "duckdb read usage")
    focus_ratio = ratio("ingest focus", "duckdb read focus")
    print(f"\ningest usage / DuckDB reading the file:  {usage_ratio:.2f}x  (target <= 2)")
    print(f"ingest FOCUS / DuckDB reading the file:  {focus_ratio:.2f}x  (target <= 2)")
    print(
        f"rollup / hand-written DuckDB SQL:        {ratio('rollup', 'duckdb rollup'):.2f}x"
        "  (target <= 1.5)"
    )
    print(
        f"pandas / rollup:                         {ratio('pandas rollup', 'rollup'):.1f}x"
        "  (target >= 10)"
    )
    print(
        f"rollup totals: valuegap {results['rollup']['total']}, "
        f"hand-written SQL {results['duckdb rollup']['total']}"
    )
    peak = max(r["peak_mb"] for k, found in runs.items() if not k.startswith("pandas")
               for r in found)  # fmt: skip
    print(f"peak memory of valuegap and DuckDB phases: {peak} MB  (target < 2048)")
    for n in range(args.chunks):
        chunk = work / "chunk.csv"
        generate.usage_csv(chunk, args.events, start=(n + 1) * args.events)
        result = run_phase("valuegap_ingest", kind="usage", file=str(chunk),
                           ledger_file="ledger.duckdb", **common)  # fmt: skip
        total = (n + 2) * args.events
        print(
            f"chunk {n + 1}: {result['rows']:,} events in {result['seconds']:.1f} s, peak "
            f"{result['peak_mb']} MB; {total:,} events in the ledger",
            flush=True,
        )
        chunk.unlink()


if __name__ == "__main__":
    main()

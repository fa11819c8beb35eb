"""valuegap's agent authorisation benchmark, with its baselines in the same run.

    python benchmarks/agents.py                     # 7 x 2,000 evaluated decisions, 300 calls
    python benchmarks/agents.py --decisions 1000    # 7 x 1,000 evaluated decisions, 1,000 calls
    python benchmarks/agents.py --work agents-data  # keep the ledgers in agents-data

The demo's refund agent asks to issue refunds of 45.90 (allowed), 350 (above its approval
threshold: needs approval) and 1,500 (above its hard cap: denied), in turn. Two lines, each
against its baseline:

- policy evaluation: ``decide()`` on the 10 rules for ``issue_refund``, against the same 10
  conditions written by hand in plain Python;
- the whole call: ``ledger.agents.authorize()``, audit write included, against the floor of a
  durable audit write in DuckDB (INSERT the audit row, UPDATE the chain's head, COMMIT) on a
  copy of the same ledger.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from valuegap import Ledger
from valuegap.demo import build_demo
from valuegap.governance import context as ctx
from valuegap.governance.policy import RuleSet, applicable, decide
from valuegap.settings import Settings

AGENT, ACTION, ACTOR = "refund-agent", "issue_refund", "svc.refund-agent"
# (amount, what decide() says, what authorize() answers): under the approval threshold (200),
# above it, above the hard cap (1,000).
CASES = [
    (Decimal("45.90"), "allow", "allow"),
    (Decimal("350"), "require_approval", "needs_approval"),
    (Decimal("1500"), "deny", "deny"),
]
EVALUATION_TARGET_US = 100.0
CALL_TARGET_MS = 2.0
WARM_UP = 3  # whole calls of each kind before the timed ones


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# The baseline of the policy evaluation: the refund agent's rules as plain Python.


def by_hand(context: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The 10 rules for issue_refund (7 enterprise, 1 business unit, 2 initiative), deciding as
    ``decide()`` does: the strictest failed effect wins; the rules that decided."""
    initiative, agent, action = context["initiative"], context["agent"], context["action"]
    given, threshold = action["context"], agent["approval_threshold"]
    checks = [
        ("agent-allowed-action", "deny", action["name"] in agent["allowed_actions"]),
        ("agent-not-retired", "deny", initiative["stage"] != "retired"),
        ("agent-live", "require_approval", initiative["stage"] in ("mvp", "production", "scaled")),
        ("agent-high-risk-approval", "require_approval", agent["risk_tier"] != "high"),
        ("agent-suggests-only", "deny", agent["autonomy"] != "suggest"),
        ("agent-acts-with-approval", "require_approval", agent["autonomy"] != "act_with_approval"),
        (
            "agent-approval-threshold",
            "require_approval",
            threshold is None or action["amount"] is None or action["amount"] <= threshold,
        ),
        ("service-refund-names-order", "deny", "order_id" in given),
        (
            "refund-agent-hard-cap",
            "deny",
            action["amount"] is not None and action["amount"] <= 1000.0,
        ),
        (
            "refund-agent-new-customers",
            "require_approval",
            "customer_days" not in given or int(given["customer_days"]) >= 30,
        ),
    ]
    failed = {effect for _, effect, held in checks if not held}
    outcome = (
        "deny" if "deny" in failed else "require_approval" if "require_approval" in failed
        else "allow"
    )  # fmt: skip
    deciding = [
        rule
        for rule, effect, held in checks
        if (held and outcome == "allow") or (not held and effect == outcome)
    ]
    return outcome, deciding


# The baseline of the whole call: the least a durable audit write costs in DuckDB.


_FLOOR_COLUMNS = (
    "seq, recorded_at, actor, action, entity_type, entity_id, before, after, prev_hash, hash"
)
_TEN = ", ".join("?" for _ in range(10))
_UNNESTED = ", ".join("unnest(?)" for _ in range(10))


class AuditFloor:
    """On its own copy of the ledger: decide by hand, then in one transaction INSERT the row
    authorize writes (hashed and chained as valuegap does), UPDATE the head, COMMIT."""

    def __init__(self, path: Path, context: Mapping[str, Any], versions: Mapping[str, int]):
        self.con = duckdb.connect(str(path))
        self.context, self.versions = context, dict(versions)
        row = self.con.execute("SELECT value FROM ledger_meta WHERE key = 'audit_head'").fetchone()
        assert row is not None, "the ledger has no audit head"
        seq, self.head = str(row[0]).split(":", 1)
        self.seq = int(seq)

    def authorize(self, amount: Decimal, given: dict[str, str]) -> str:
        answer, row = self._decided(amount, given)
        self.con.begin()
        self.con.execute(f"INSERT INTO audit_log ({_FLOOR_COLUMNS}) VALUES ({_TEN})", row)
        self._move_head_and_commit()
        return answer

    def authorize_all(self, asks: list[tuple[Decimal, dict[str, str]]]) -> list[str]:
        """Decide each by hand, then write their rows in one transaction (one INSERT of the
        rows, as lists unnested, UPDATE the head, COMMIT): the DuckDB work of a batch of
        group commit, without the approval requests valuegap also writes."""
        decided = [self._decided(amount, given) for amount, given in asks]
        columns = [list(column) for column in zip(*(row for _, row in decided), strict=True)]
        self.con.begin()
        self.con.execute(f"INSERT INTO audit_log ({_FLOOR_COLUMNS}) SELECT {_UNNESTED}", columns)
        self._move_head_and_commit()
        return [answer for answer, _ in decided]

    def _decided(self, amount: Decimal, given: dict[str, str]) -> tuple[str, list[Any]]:
        """The answer, and the audit row that records it, chained onto the last one made."""
        action = {"name": ACTION, "amount": float(amount), "context": given}
        outcome, rules = by_hand({**self.context, "action": action})
        answer = "needs_approval" if outcome == "require_approval" else outcome
        after = {
            "action": ACTION,
            "amount": str(amount),
            "context": given,
            "decision": answer,
            "rules": rules,
            "policy_versions": self.versions,
        }
        after_json = json.dumps(after, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        seq, at = self.seq + 1, utcnow()
        fields = [seq, at, ACTOR, "agent.authorize", "agent", AGENT, None, after_json, self.head]
        hashed = json.dumps([*fields[:1], at.isoformat(), *fields[2:]], separators=(",", ":"))
        digest = hashlib.sha256(hashed.encode()).hexdigest()
        self.seq, self.head = seq, digest
        return answer, [*fields, digest]

    def _move_head_and_commit(self) -> None:
        self.con.execute(
            "UPDATE ledger_meta SET value = ? WHERE key = 'audit_head'", [f"{self.seq}:{self.head}"]
        )
        self.con.commit()

    def close(self) -> None:
        self.con.close()


# Measuring.


def block_us(decide_one: Callable[[Any], object], inputs: list[Any]) -> float:
    """Microseconds per decision over one block of decisions."""
    started = time.perf_counter()
    for item in inputs:
        decide_one(item)
    return (time.perf_counter() - started) / len(inputs) * 1e6


def evaluation(
    rules: RuleSet, contexts: list[dict[str, Any]], n: int, repeats: int
) -> tuple[list[float], list[float]]:
    """µs per decision of each block: valuegap's ``decide()`` and the plain Python baseline,
    a block of each in turn so that both see the same noise."""
    for context, (_, outcome, _) in zip(contexts, CASES, strict=True):
        decision = decide(rules, context)
        assert (decision.outcome, decision.rule_ids) == by_hand(context), decision
        assert decision.outcome == outcome, (decision.outcome, outcome)
    inputs = [contexts[i % len(contexts)] for i in range(n)]
    valuegap, baseline = [], []
    block_us(partial(decide, rules), inputs[:200])  # warm up
    for _ in range(repeats):
        valuegap.append(block_us(partial(decide, rules), inputs))
        baseline.append(block_us(by_hand, inputs))
    return valuegap, baseline


def whole_calls(
    ledger: Ledger, floor: AuditFloor, n: int
) -> tuple[list[float], list[float], Counter[str]]:
    """Seconds of each call: ``authorize()`` and the DuckDB floor, one of each in turn."""
    valuegap, baseline, answers = [], [], Counter[str]()
    for i in range(-WARM_UP, n):
        amount, _, expected = CASES[i % len(CASES)]
        given = {"order_id": f"NW-{100_000 + i}"}
        started = time.perf_counter()
        answer = ledger.agents.authorize(AGENT, ACTION, amount, given).decision
        middle = time.perf_counter()
        floor_answer = floor.authorize(amount, given)
        ended = time.perf_counter()
        assert answer == floor_answer == expected, (amount, answer, floor_answer, expected)
        if i >= 0:
            valuegap.append(middle - started)
            baseline.append(ended - middle)
            answers[answer] += 1
    return valuegap, baseline, answers


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def yes(met: bool) -> str:
    return "yes" if met else "no"


def run(work: Path, decisions: int | None, repeats: int) -> None:
    evaluated, calls = decisions or 2000, decisions or 300
    print(
        f"valuegap agent benchmark on {platform.node()}: {platform.machine()}, "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}; building the demo "
        "ledger …",
        flush=True,
    )
    db, copy = work / "agents-ledger.duckdb", work / "agents-floor.duckdb"
    started = time.perf_counter()
    build_demo(Settings(db=db), actor="bench")
    print(f"demo ledger built in {time.perf_counter() - started:.1f} s", flush=True)
    for stale in (copy, Path(f"{copy}.wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(db, copy)
    if Path(f"{db}.wal").exists():
        shutil.copyfile(f"{db}.wal", f"{copy}.wal")

    ledger = Ledger.open(db, actor=ACTOR)
    initiative = ledger.portfolio.initiative(AGENT)
    assert initiative.agent is not None
    rules = applicable(ledger.governance.policies(), initiative, "action", ACTION)
    layers = Counter(policy.layer for policy, _ in rules.rules)
    now = utcnow()
    agent = ctx.agent_context(initiative, initiative.agent)
    # The context authorize builds (with the function it calls), once per amount.
    contexts = [
        ledger.governance._evaluation_context(
            initiative,
            rules.names,
            now,
            agent=agent,
            action=ctx.action_context(ACTION, amount, {"order_id": "NW-1"}),
        )
        for amount, _, _ in CASES
    ]
    print(
        f"{AGENT} asks to {ACTION}: {len(rules.rules)} rules ({layers['enterprise']} enterprise, "
        f"{layers['business_unit']} business unit, {layers['initiative']} initiative)",
        flush=True,
    )

    vg_eval, py_eval = evaluation(rules, contexts, evaluated, repeats)
    floor = AuditFloor(copy, contexts[0], decide(rules, contexts[0]).policy_versions)
    entries = ledger.governance.audit.verify_audit().entries
    vg_calls, floor_calls, answers = whole_calls(ledger, floor, calls)
    verification = ledger.governance.audit.verify_audit()
    ledger.close()
    floor.close()
    with Ledger.open(copy, actor="bench") as copied:
        floor_verification = copied.governance.audit.verify_audit()

    vg_us, py_us = statistics.median(vg_eval), statistics.median(py_eval)
    vg_ms, floor_ms = statistics.median(vg_calls) * 1e3, statistics.median(floor_calls) * 1e3
    timed = f"median of {repeats} x {evaluated:,}"
    print(f"\n{'line':48} {'per decision':>12} {'decisions/s':>12}  timed")
    count = len(rules.rules)
    for name, blocks, places in (
        (f"policy evaluation: decide(), {count} rules", vg_eval, 1),
        (f"plain Python, the same {count} conditions", py_eval, 2),
    ):
        median = statistics.median(blocks)
        print(
            f"{name:48} {median:9.{places}f} µs {1e6 / median:12,.0f}  {timed} "
            f"(blocks {min(blocks):.{places}f} to {max(blocks):.{places}f} µs)"
        )
    for name, times, median in (
        ("whole call: authorize(), audit write included", vg_calls, vg_ms),
        ("DuckDB floor: INSERT + UPDATE + COMMIT", floor_calls, floor_ms),
    ):
        print(
            f"{name:48} {median:9.2f} ms {len(times) / sum(times):12,.0f}  "
            f"median of {len(times):,} calls (p95 {p95(times) * 1e3:.2f} ms)"
        )
    print(f"\npolicy evaluation / plain Python:    {vg_us / py_us:6.1f}x")
    print(f"whole call / DuckDB floor:           {vg_ms / floor_ms:6.2f}x")
    print(
        f"policy evaluation under {EVALUATION_TARGET_US:.0f} µs:      "
        f"{yes(vg_us < EVALUATION_TARGET_US)} ({vg_us:.1f} µs)"
    )
    floor_met = "under the target" if floor_ms < CALL_TARGET_MS else "itself above the target"
    print(
        f"whole call under {CALL_TARGET_MS:.0f} ms:               {yes(vg_ms < CALL_TARGET_MS)} "
        f"({vg_ms:.2f} ms; the DuckDB floor alone takes {floor_ms:.2f} ms, {floor_met})"
    )
    print(
        "answers: "
        + ", ".join(f"{answers[answer]:,} {answer}" for _, _, answer in CASES)
        + " (as expected, from both)"
    )
    print(
        f"valuegap's audit chain: {verification.message}, {verification.entries - entries:,} "
        f"of them new ({calls:,} timed calls, {WARM_UP} to warm up)"
    )
    print(f"the floor's copy:       {floor_verification.message}")
    assert verification.ok and floor_verification.ok
    assert verification.entries - entries == calls + WARM_UP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--decisions",
        type=int,
        help="decisions per block evaluated and whole calls made (default 2000 and 300)",
    )
    parser.add_argument(
        "--repeats", type=int, default=7, help="blocks of evaluated decisions (median taken)"
    )
    parser.add_argument(
        "--work", type=Path, help="keep the ledgers here (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        run(args.work.resolve(), args.decisions, args.repeats)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), args.decisions, args.repeats)


if __name__ == "__main__":
    main()

"""The acceptance case of issue 15: 8 threads, 200 mixed writes each, on one ``Ledger``.

Every write either succeeds or fails with a ``ValuegapError``; the log holds one entry per
successful write (and one for the shared initiative, created by whichever apply came first);
the log verifies; and the costs, stages and entries equal those of the same writes made one
at a time on another ledger."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from valuegap import Ledger
from valuegap.errors import ValuegapError

from ..conftest import ready

THREADS, WRITES, MOVED = 8, 200, 10  # MOVED initiatives per thread, each moved twice
# Write k of a thread is of kind KINDS[k % 20]: 3 applies, 1 ingest, 4 agreements, 2 moves
# and 10 agent decisions in 20 (decisions are what a server makes most; moves evaluate gates).
AP, IN, AG, MV, AU = "apply", "ingest", "agree", "move", "authorize"
KINDS = [AP, AU, AG, AU, IN, AU, AP, AU, AG, MV, AU, AP, AU, AG, AU, AU, AG, AU, AU, MV]
# What the agent asks, in turn: allowed, above its approval threshold, not an allowed action.
ASKS = [("issue_refund", "45.90"), ("issue_refund", "350"), ("close_account", "5")]
AGENT = {
    "objective": "Resolve routine refund tickets end to end.",
    "allowed_actions": ["issue_refund"],
    "autonomy": "autonomous",
    "approval_threshold": Decimal("200"),
    "currency": "USD",
}
Write = Callable[[dict[str, Ledger]], Any]


def _portfolio(thread: int, variant: int) -> str:
    """A portfolio file: the shared initiative (the same in every variant) and the thread's
    own, whose owner each variant changes."""
    shared = {k: v for k, v in ready("shared").items() if k != "metrics"}
    own = {**ready(f"t{thread}"), "owner": f"Owner {variant}"}
    return yaml.safe_dump({"initiatives": [shared, own]}, sort_keys=False)


def _spans(thread: int, write: int) -> str:
    """Three events of the thread's initiative, none of them in another file."""
    lines = []
    for n in range(3):
        attributes = {
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000 * (n + 1),
            "gen_ai.usage.output_tokens": 100 + write,
            "valuegap.initiative": f"t{thread}",
        }
        lines.append(json.dumps({
            "traceId": f"trace-{thread}-{write}",
            "spanId": f"span-{n}",
            "startTimeUnixNano": str(1_740_787_200_000_000_000 + write * 1_000_000_000),
            "attributes": [
                {"key": k, "value": {"stringValue": v} if isinstance(v, str) else {"intValue": v}}
                for k, v in attributes.items()
            ],
        }))  # fmt: skip
    return "\n".join(lines) + "\n"


def _writes(thread: int, files: Path) -> list[tuple[str, Write]]:
    """The thread's 200 writes, in its order: (kind, write)."""
    writes: list[tuple[str, Write]] = []
    moves = agreements = decisions = 0
    for k in range(WRITES):
        kind = KINDS[k % 20]
        if kind == "apply":
            path = files / f"portfolio-{thread}-{k}.yaml"
            path.write_text(_portfolio(thread, k))
            writes.append((kind, lambda views, p=path: views["alice"].portfolio.apply_file(p)))
        elif kind == "ingest":
            path = files / f"spans-{thread}-{k}.jsonl"
            path.write_text(_spans(thread, k))
            writes.append(
                (kind, lambda views, p=path: views["alice"].costs.ingest_usage(p, "otel"))
            )
        elif kind == "agree":  # every other one names no metric: refused, nothing written
            metric = f"t{thread}-hours" if agreements % 2 else f"t{thread}-none"
            agreements += 1
            writes.append(
                (kind, lambda views, m=metric: views["fin"].portfolio.agree_metric(m, by="CFO"))
            )
        elif kind == "move":
            initiative, stage = f"t{thread}-m{moves // 2}", ["poc", "mvp"][moves % 2]
            moves += 1
            writes.append((
                kind,
                lambda views, i=initiative, s=stage: views["alice"].governance.gates.advance(i, s),
            ))  # fmt: skip
        else:
            action, amount = ASKS[decisions % 3]
            decisions += 1
            writes.append((
                kind,
                lambda views, x=action, a=Decimal(amount), k=k: views["svc"].agents.authorize(
                    "refunds", x, a, {"order_id": f"{thread}-{k}"}
                ),
            ))  # fmt: skip
    assert moves == 2 * MOVED
    return writes


def _prepared(path: Path) -> dict[str, Ledger]:
    """A ledger with the agent, the users, and the initiatives the threads move and agree."""
    ledger = Ledger.init(path, actor="alice")
    ledger.portfolio.add_initiative(ready("refunds", kind="agent", business_unit="service"))
    ledger.agents.register_agent("refunds", AGENT)
    ledger.governance.gates.advance("refunds", "poc")
    ledger.governance.gates.advance("refunds", "mvp")
    ledger.governance.users.add_user("svc", "contributor", ["service"])
    ledger.governance.users.add_user("fin", "finance")
    own = [ready(f"t{t}") for t in range(THREADS)]
    moved = [ready(f"t{t}-m{j}") for t in range(THREADS) for j in range(MOVED)]
    ledger.portfolio.apply_file(_written(path.parent / "setup.yaml", {"initiatives": own + moved}))
    return {"alice": ledger, "fin": ledger.acting_as("fin"), "svc": ledger.acting_as("svc")}


def _written(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _run(views: dict[str, Ledger], writes: list[tuple[str, Write]]) -> Counter[str]:
    """Make the writes in order: what each kind of write gave (``kind ok`` or the error)."""
    outcomes: Counter[str] = Counter()
    for kind, write in writes:
        try:
            result = write(views)
        except ValuegapError as refused:
            outcomes[f"{kind} {type(refused).__name__}"] += 1
        else:
            answer = result.decision if kind == "authorize" else ""
            outcomes[f"{kind} ok {answer}".strip()] += 1
    return outcomes


def _totals(ledger: Ledger) -> dict[str, Any]:
    return {
        "cost": ledger.costs.cost_report(["initiative"]),
        "stages": Counter(i.stage for i in ledger.portfolio.initiatives()),
        "owners": {i.id: i.owner for i in ledger.portfolio.initiatives()},
        "agreed": {m.id: m.agreed_by for _, m in ledger.portfolio.metrics()},
        "entries": Counter(e.action for e in ledger.governance.audit.audit_log()),
    }


@pytest.mark.slow
def test_eight_threads_of_mixed_writes_on_one_ledger(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    work = [_writes(t, files) for t in range(THREADS)]

    shared = _prepared(tmp_path / "shared.duckdb")
    before = len(shared["alice"].governance.audit.audit_log())
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = sum(pool.map(lambda w: _run(shared, w), work), Counter[str]())

    alone = _prepared(tmp_path / "alone.duckdb")
    one_at_a_time = sum((_run(alone, w) for w in work), Counter[str]())

    # Worked out from the writes: each thread makes 30 applies (its own initiative's owner
    # changes each time), 10 ingests, 40 agreements (20 of a metric that is not there), 20
    # moves (10 initiatives to poc, then to mvp) and 100 decisions: 34 allowed (45.90), 33
    # needing approval (350, above the threshold of 200), 33 denied (close_account is not an
    # action it may take).
    per_thread = {
        "apply ok": 30, "ingest ok": 10, "agree ok": 20, "agree NotFound": 20, "move ok": 20,
        "authorize ok allow": 34, "authorize ok needs_approval": 33, "authorize ok deny": 33,
    }  # fmt: skip
    assert outcomes == one_at_a_time == Counter({k: v * THREADS for k, v in per_thread.items()})
    succeeded = sum(n for kind, n in outcomes.items() if " ok" in kind)
    ledger = shared["alice"]
    # One entry per successful write, and the shared initiative's creation by the first apply.
    assert len(ledger.governance.audit.audit_log()) - before == succeeded + 1 == THREADS * 180 + 1
    verification = ledger.governance.audit.verify_audit()
    assert verification.ok, verification.message
    assert _totals(ledger) == _totals(alone["alice"])
    assert _totals(ledger)["stages"]["mvp"] == 1 + THREADS * MOVED  # the agent and the moved
    events = ledger.costs.cost_report([])
    assert events and Decimal(events[0].cost) > 0
    for views in (shared, alone):
        views["alice"].close()

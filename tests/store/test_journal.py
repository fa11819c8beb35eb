"""The journal (store/journal.py): an agent's decision is durable once answered, though it
reaches the ledger's tables later; a process killed under load loses no decision it answered,
a record cut short is ignored, and what waits in the journal is read as if it were in the
tables."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.errors import ConfigError
from valuegap.store.journal import Journal

AGENT, ACTION, ACTOR = "refund-agent", "issue_refund", "svc.refund-agent"
AMOUNTS = ["45.90", "350", "1500"]  # allow, needs approval, deny (the demo's refund agent)

# Decides from four threads until killed, printing each answer once it has it.
DECIDING = """
import sys, threading
from decimal import Decimal
from pathlib import Path
from typing import Any
from valuegap import Ledger
from valuegap.errors import ConfigError
from valuegap.store.journal import Journal

Journal.MOVE_EVERY = float(sys.argv[3])
ledger = Ledger.open(Path(sys.argv[1]), actor="svc.refund-agent")
amounts = ["45.90", "350", "1500"]
printing = threading.Lock()

def decide(caller):
    for n in range(int(sys.argv[2])):
        order = f"{caller}-{n}"
        made = ledger.agents.authorize(
            "refund-agent", "issue_refund", Decimal(amounts[n % 3]), {"order_id": order}
        )
        with printing:
            print(order, made.decision, made.approval_id, flush=True)

threads = [threading.Thread(target=decide, args=(c,)) for c in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("done", flush=True)
import os
os._exit(0)  # as if killed: nothing is closed, the journal is not moved
"""


@pytest.fixture
def ledger_path(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.duckdb"
    shutil.copyfile(demo, path)
    return path


def _decide(path: Path, calls: int, move_every: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", DECIDING, str(path), str(calls), str(move_every)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _journal_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.journal.*"))


def _decided(ledger: Ledger) -> dict[str, tuple[str, int | None]]:
    """The decisions the deciding process made, in the audit log, by order (``<caller>-<n>``):
    each answer and its request."""
    found = {}
    for entry in ledger.governance.audit.audit_log(entity_id=AGENT):
        if entry.action == "agent.authorize" and entry.after:
            after = json.loads(entry.after)
            order = after["context"].get("order_id", "")
            if re.fullmatch(r"\d+-\d+", order):
                found[order] = (after["decision"], after.get("approval"))
    return found


@pytest.mark.slow
def test_a_killed_process_loses_no_decision_it_answered(ledger_path: Path) -> None:
    deciding = _decide(ledger_path, 100_000, Journal.MOVE_EVERY)
    assert deciding.stdout is not None
    answered = []
    started = time.monotonic()
    while time.monotonic() - started < 3 or len(answered) < 200:
        line = deciding.stdout.readline()
        assert line, "the deciding process stopped"
        answered.append(line.split())
    os.kill(deciding.pid, signal.SIGKILL)
    deciding.wait()
    assert _journal_files(ledger_path), "the kill left batches in the journal"

    with Ledger.open(ledger_path, actor="you") as ledger:
        assert not _journal_files(ledger_path)  # moved into the tables when opened
        verification = ledger.governance.audit.verify_audit()
        assert verification.ok, verification.message
        decided = _decided(ledger)
        requests = {r.id: r for r in ledger.agents.approvals()}
    for order, decision, approval in answered:
        assert decided[order][0] == decision
        if decision == "needs_approval":
            assert decided[order][1] == int(approval)
            assert requests[int(approval)].context == {"order_id": order}


def test_a_record_cut_short_is_ignored_and_those_before_it_are_kept(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, actor="you") as ledger:
        entries = ledger.governance.audit.verify_audit().entries
    deciding = _decide(ledger_path, 3, 3600)  # nothing moves: all stays in the journal
    out, _ = deciding.communicate()
    assert out.splitlines()[-1] == "done"
    [last] = _journal_files(ledger_path)[-1:]
    with last.open("ab") as journal:  # a record whose writing stopped halfway
        record = json.dumps({"entries": [], "approvals": []}).encode()
        journal.write(struct.pack(">II", len(record) + 100, 0) + record)

    with Ledger.open(ledger_path, actor="you") as ledger:
        verification = ledger.governance.audit.verify_audit()
        assert verification.ok, verification.message
        assert verification.entries == entries + 12  # 4 callers x 3 decisions
        assert len(_decided(ledger)) == 12
    assert not _journal_files(ledger_path)


def test_what_waits_in_the_journal_is_read_as_in_the_tables(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Journal, "MOVE_EVERY", 3600.0)
    with Ledger.open(ledger_path, actor=ACTOR) as ledger:
        made = ledger.agents.authorize(AGENT, ACTION, Decimal("350"), {"order_id": "NW-1"})
        assert made.decision == "needs_approval" and made.approval_id is not None
        assert _journal_files(ledger_path)
        # read by another thread's cursor, and by this one: the request and its entry
        assert ledger.agents.approval(AGENT, made.approval_id).context == {"order_id": "NW-1"}
        [entry] = ledger.governance.audit.audit_log(limit=1)
        assert entry.action == "agent.authorize" and entry.entity_id == AGENT
        assert not _journal_files(ledger_path)  # the read moved it
        # a write after decisions continues their chain
        for amount in AMOUNTS:
            ledger.agents.authorize(AGENT, ACTION, Decimal(amount), {"order_id": "NW-2"})
        with Ledger.open(ledger_path, actor="you") as other:  # another handle, same process
            other.agents.reject_action(AGENT, made.approval_id, "not this one")
        verification = ledger.governance.audit.verify_audit()
        assert verification.ok, verification.message


def test_a_journal_left_by_another_ledger_is_refused(ledger_path: Path, tmp_path: Path) -> None:
    _decide(ledger_path, 1, 3600).communicate()  # four decisions left in the journal
    other = tmp_path / "other.duckdb"
    left = [
        path.rename(tmp_path / path.name.replace(ledger_path.name, other.name))
        for path in _journal_files(ledger_path)
    ]
    with pytest.raises(ConfigError, match="the journal of an earlier ledger"):
        Ledger.init(other, actor="you")
    aside = [path.rename(path.with_name(f"{path.name}.aside")) for path in left]
    Ledger.init(other, actor="you").close()
    for path, name in zip(aside, left, strict=True):
        path.rename(name)
    with pytest.raises(ConfigError, match="does not continue the audit chain"):
        Ledger.open(other, actor="you")
    assert _journal_files(other) == left  # nothing was changed


def test_a_process_that_exits_without_closing_the_ledger_exits_cleanly(ledger_path: Path) -> None:
    """Its journal's mover (a thread, moving every millisecond here) stops before the
    interpreter does: a thread stopped inside DuckDB would abort the process."""
    script = DECIDING.replace("os._exit(0)", "sys.exit(0)")
    done = subprocess.run(
        [sys.executable, "-c", script, str(ledger_path), "50", "0.001"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "terminate" not in done.stderr
    with Ledger.open(ledger_path, actor="you") as ledger:
        assert ledger.governance.audit.verify_audit().ok
        assert len(_decided(ledger)) == 200


def test_a_move_that_fails_is_made_again_and_then_deletes_every_file(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Journal, "MOVE_EVERY", 3600.0)
    written = Journal.write
    failing = [True]

    def write_once_failing(journal: Journal, *args: Any) -> None:
        if failing.pop() if failing else False:
            raise OSError("the disk was full")
        written(journal, *args)

    monkeypatch.setattr(Journal, "write", write_once_failing)
    with Ledger.open(ledger_path, actor=ACTOR) as ledger:
        ledger.agents.authorize(AGENT, ACTION, Decimal("45.90"), {"order_id": "moved-1"})
        db = ledger.session.db
        with pytest.raises(OSError):
            db.settle()
        assert len(_journal_files(ledger_path)) == 1  # still there: its batch did not move
        ledger.agents.authorize(AGENT, ACTION, Decimal("45.90"), {"order_id": "moved-2"})
        assert len(_journal_files(ledger_path)) == 2
        db.settle()
        assert not _journal_files(ledger_path)
        orders = [
            json.loads(e.after)["context"].get("order_id")
            for e in ledger.governance.audit.audit_log(entity_id=AGENT)
            if e.action == "agent.authorize" and e.after
        ]
        assert orders.count("moved-1") == orders.count("moved-2") == 1
        assert ledger.governance.audit.verify_audit().ok


# One decision whose append fails at its fsync (the record written), then more; killed.
FSYNC_FAILING = """
import os, stat, sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from valuegap import Ledger

real, failed = os.fsync, []

def fsync(descriptor):
    if stat.S_ISREG(os.fstat(descriptor).st_mode) and not failed:
        failed.append(True)
        raise OSError(5, "Input/output error")
    real(descriptor)

os.fsync = fsync
ledger = Ledger.open(Path(sys.argv[1]), actor="svc.refund-agent")
for order in ("failed", "answered-1", "answered-2"):
    try:
        made = ledger.agents.authorize(
            "refund-agent", "issue_refund", Decimal("45.90"), {"order_id": order}
        )
        print(order, made.decision, flush=True)
    except OSError as exc:
        print(order, "error", exc, flush=True)
os._exit(0)  # as if killed: the journal is not moved
"""


def test_a_batch_whose_fsync_failed_is_not_recovered_beside_the_one_answered_after_it(
    ledger_path: Path,
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", FSYNC_FAILING, str(ledger_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == [
        "failed error [Errno 5] Input/output error",
        "answered-1 allow",
        "answered-2 allow",
    ]
    assert len(_journal_files(ledger_path)) == 2  # the failed record is in the first
    with Ledger.open(ledger_path, actor="you") as ledger:
        orders = [
            json.loads(e.after)["context"].get("order_id")
            for e in ledger.governance.audit.audit_log(entity_id=AGENT)
            if e.action == "agent.authorize" and e.after
        ]
        assert "failed" not in orders
        assert orders.count("answered-1") == orders.count("answered-2") == 1
        verification = ledger.governance.audit.verify_audit()
        assert verification.ok, verification.message
    assert not _journal_files(ledger_path)


def test_a_move_of_many_batches_lands_each_entry_and_request_once(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches with approval requests and batches without, moved together: the move hands
    DuckDB each batch's JSON arrays as they were appended."""
    monkeypatch.setattr(Journal, "MOVE_EVERY", 3600.0)
    with Ledger.open(ledger_path, actor=ACTOR) as ledger:
        before = len(ledger.governance.audit.audit_log())
        made = [
            ledger.agents.authorize(AGENT, ACTION, Decimal(AMOUNTS[n % 3]), {"order_id": f"9-{n}"})
            for n in range(30)
        ]
        assert len(_journal_files(ledger_path)) == 1  # all still waiting
        decided = _decided(ledger)  # the read moves them
        assert not _journal_files(ledger_path)
        assert decided == {f"9-{n}": (m.decision, m.approval_id) for n, m in enumerate(made)}
        assert len(ledger.governance.audit.audit_log()) == before + 30
        requests = [m.approval_id for m in made if m.approval_id is not None]
        assert len(requests) == 10
        for approval_id in requests:
            assert ledger.agents.approval(AGENT, approval_id).status == "pending"
        assert ledger.governance.audit.verify_audit().ok


def test_a_move_keeps_every_character_of_the_entries_as_hashed(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotes, backslashes, control characters and characters beyond ASCII in what an agent
    passes: each entry moves into the audit log exactly as it was hashed (``verify_audit``
    hashes the rows again)."""
    monkeypatch.setattr(Journal, "MOVE_EVERY", 3600.0)
    orders = ['9-say "yes"', "9-C:\\refunds\\", "9-line\nbreak\ttab", "9-café ☕ 𝄞", "9-ü" * 200]
    with Ledger.open(ledger_path, actor=ACTOR) as ledger:
        for n, order in enumerate(orders):
            given = {"order_id": order, "note": order[::-1]}
            ledger.agents.authorize(AGENT, ACTION, Decimal(AMOUNTS[n % 3]), given)
        assert _journal_files(ledger_path)
        verification = ledger.governance.audit.verify_audit()  # the read moves them first
        assert not _journal_files(ledger_path)
        assert verification.ok, verification.message
        moved = [
            context
            for entry in ledger.governance.audit.audit_log(entity_id=AGENT)
            if entry.action == "agent.authorize" and entry.after
            if (context := json.loads(entry.after)["context"]).get("order_id") in orders
        ]
    by_order = {context["order_id"]: context for context in moved}
    assert by_order == {order: {"order_id": order, "note": order[::-1]} for order in orders}


@pytest.mark.skipif(sys.platform != "linux", reason="nice is per thread on Linux only")
def test_the_journals_mover_runs_at_a_lower_priority_than_the_deciding_threads(
    ledger_path: Path,
) -> None:
    import threading

    from valuegap.store.database import MOVER_NICENESS

    with Ledger.open(ledger_path, actor=ACTOR) as ledger:
        ledger.agents.authorize(AGENT, ACTION, Decimal("45.90"), {"order_id": "NW-1"})
        [mover] = [t for t in threading.enumerate() if t.name == "valuegap journal"]
        deciding = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert mover.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, mover.native_id) == min(
            deciding + MOVER_NICENESS, 19
        )

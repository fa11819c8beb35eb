"""One ledger, many callers: threads share one open ``Ledger`` and its writes land in order."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from valuegap import Ledger

THREADS, CALLS = 4, 40


def test_four_threads_adding_users_on_one_ledger(db_path: Path) -> None:
    """The case of issue 15: 4 threads x 40 ``add_user`` on one open ledger. Every call is
    answered with its user, the log holds the init entry and one entry per user, in order."""
    with Ledger.init(db_path, actor="alice") as ledger:

        def add(thread: int) -> list[str]:
            failures = []
            for call in range(CALLS):
                try:
                    ledger.governance.users.add_user(f"user-{thread}-{call}", "viewer")
                except Exception as exc:
                    failures.append(type(exc).__name__)
            return failures

        with ThreadPoolExecutor(THREADS) as pool:
            failed = Counter(name for found in pool.map(add, range(THREADS)) for name in found)

        assert failed == Counter()
        saved = [e for e in ledger.governance.audit.audit_log() if e.action == "user.save"]
        assert len(saved) == THREADS * CALLS == 160
        assert len(ledger.governance.users.users()) == 1 + 160  # alice and the 160
        verification = ledger.governance.audit.verify_audit()
        assert verification.ok, verification.message
    with Ledger.open(db_path, actor="alice") as reopened:
        assert reopened.governance.audit.verify_audit().ok

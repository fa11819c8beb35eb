"""The small-read cache: never stale after a write, a failed transaction, or another handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.store.database import Database


def test_a_failed_transaction_forgets_what_it_wrote(ledger: Ledger) -> None:
    entries = len(ledger.governance.audit.audit_log())
    with pytest.raises(RuntimeError), ledger.session.db.transaction():
        ledger.session.record("test.write", "test", "x", None, {"n": 1})  # remembers the new head
        raise RuntimeError("the change fails after its audit entry was written")
    ledger.governance.users.add_user(
        "bob", "viewer"
    )  # chains onto the head as stored, not as remembered
    assert len(ledger.governance.audit.audit_log()) == entries + 1
    assert ledger.governance.audit.verify_audit().ok


def test_two_handles_on_one_file_see_each_others_writes(db_path: Path) -> None:
    with Ledger.init(db_path, actor="alice") as first:
        second = Ledger(Database.open(db_path, create=False), actor="alice",
                        settings=first.settings)  # fmt: skip
        assert [p.version for p in first.governance.policies()] == [1]
        second.governance.apply_policy("layer: enterprise\nscope: null\nrules: []\n", "empty.yaml")
        assert [p.version for p in first.governance.policies()] == [2]
        first.governance.users.add_user("bob", "viewer")
        second.governance.users.add_user("carol", "viewer")
        assert first.governance.audit.verify_audit().ok


def test_a_ledger_from_before_policies_gets_the_default_pack(db_path: Path) -> None:
    Ledger.init(db_path, actor="alice").close()
    raw = Database.open(db_path, create=False)
    raw.execute("DELETE FROM policies")  # as a ledger written before policies existed
    raw.close()
    with Ledger.open(db_path, actor="alice") as ledger:
        [pack] = ledger.governance.policies()
        assert (pack.layer, pack.version, len(pack.rules)) == ("enterprise", 1, 29)
        [entry] = ledger.governance.audit.audit_log(limit=1)
        assert (entry.action, entry.entity_id) == ("policy.apply", "enterprise")
        assert "valuegap's default policy pack" in (entry.after or "")


def test_what_a_decision_batch_read_is_not_kept_if_a_write_committed_meanwhile() -> None:
    """A decision batch does not hold the writer: a write may commit while it reads. What the
    batch read is then not kept (it may be older than the write), and the write's own
    forgetting stands."""
    from valuegap.store.read_cache import MISSING, NO_TABLE, Cached, ReadCache

    policies = frozenset({"policies"})
    cache = ReadCache()
    began = cache.generation
    cache.forget()  # a write, while the batch read "policies"
    read_before = {"policies": Cached("as read before", policies)}
    cache.committed(written=NO_TABLE, learned=read_before, since=began)
    assert cache.get("policies") is MISSING
    began = cache.generation
    read = {"policies": Cached("as read", policies)}
    cache.committed(written=NO_TABLE, learned=read, since=began)
    assert cache.get("policies") == "as read"

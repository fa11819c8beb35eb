"""The audit chain: every change, append-only, each entry hash-chained to the one before.

An entry's hash is SHA-256 over its canonical JSON form, which includes the previous entry's
hash. Editing an entry breaks its own hash; re-hashing it breaks the next entry's link; deleting
one leaves a gap in the sequence; deleting the newest ones no longer matches the recorded head.
Whoever can write the file can recompute all of that: signed checkpoints
(``governance/checkpoints.py``) fix the chain where it was, and an entry's ``state`` (the rows
it changed, the totals an ingest added) lets ``governance/proof.py`` replay the log against the
tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from valuegap.records import record
from valuegap.results import Value
from valuegap.words import counted

GENESIS = "0" * 64


@record
class AuditEntry:
    seq: int
    recorded_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: str | None
    after: str | None
    prev_hash: str
    hash: str
    state: str | None = None  # canonical JSON: what replaying the entry needs (governance/proof.py)

    def as_row(self) -> tuple[Any, ...]:
        """Its fields in order, as a row of the audit log holds them. (By hand:
        ``dataclasses.astuple`` deep-copies every field.)"""
        return (
            self.seq,
            self.recorded_at,
            self.actor,
            self.action,
            self.entity_type,
            self.entity_id,
            self.before,
            self.after,
            self.prev_hash,
            self.hash,
            self.state,
        )


@record
class AuditRecord:
    """An audit entry as it is shown (the CLI's ``audit log``, the API's ``/audit``): its
    ``before``, ``after`` and ``state`` as the values their canonical JSON holds."""

    seq: int
    recorded_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Value
    after: Value
    prev_hash: str
    hash: str
    state: Value

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRecord:
        def parsed(text: str | None) -> Value:
            found: Value = None if text is None else json.loads(text)
            return found

        return cls(
            entry.seq,
            entry.recorded_at,
            entry.actor,
            entry.action,
            entry.entity_type,
            entry.entity_id,
            parsed(entry.before),
            parsed(entry.after),
            entry.prev_hash,
            entry.hash,
            parsed(entry.state),
        )


@record
class Verification:
    ok: bool
    entries: int
    bad_seq: int | None = None
    message: str = ""
    proven_from: int | None = None  # the entry from which the tables are proven
    checkpoints: int = 0  # signed checkpoints the log was proven to extend


def canonical_json(value: Any) -> str | None:
    """The one JSON spelling of a value: sorted keys, no spaces, Decimal and dates as strings."""
    if value is None:
        return None
    return _CANONICAL.encode(value)


def _to_text(value: Any) -> str:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot record {type(value).__name__} in the audit log")


# Made once: ``json.dumps`` with options makes an encoder each call, which costs as much as
# encoding an entry (every agent's decision encodes three).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_to_text
)
_FIELDS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _digest(entry: AuditEntry) -> str:
    """SHA-256 over every field of the entry but its own hash (so over ``prev_hash`` too). An
    entry without state is hashed as entries were before states existed, so theirs still hold."""
    fields = [
        entry.seq, entry.recorded_at.isoformat(), entry.actor, entry.action,
        entry.entity_type, entry.entity_id, entry.before, entry.after, entry.prev_hash,
    ]  # fmt: skip
    if entry.state is not None:
        fields.append(entry.state)
    payload = _FIELDS.encode(fields)
    return hashlib.sha256(payload.encode()).hexdigest()


def seal(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
    state: Any = None,
) -> AuditEntry:
    """Make the next entry of the chain."""
    return seal_json(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=canonical_json(before),
        after=canonical_json(after),
        prev_hash=prev_hash,
        state=canonical_json(state),
    )


def seal_json(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    prev_hash: str,
    state: str | None = None,
) -> AuditEntry:
    """``seal`` of values already in canonical JSON: a decision serialises its entry on its
    own thread, so that the one writer chaining a batch only hashes."""
    fields = (seq, at, actor, action, entity_type, entity_id, before, after, prev_hash)
    digest = _digest(AuditEntry(*fields, "", state))
    return AuditEntry(*fields, digest, state)


def verify(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> Verification:
    """Walk the chain in sequence order; report the first entry that was tampered with.

    ``head`` is the (seq, hash) of the newest entry as recorded when it was appended.
    """
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for entry in entries:
        if entry.seq != expected_seq:
            return Verification(
                False,
                count,
                expected_seq,
                f"entry {expected_seq} was deleted: the chain jumps from entry "
                f"{expected_seq - 1} to entry {entry.seq}",
            )
        if entry.prev_hash != prev_hash:
            return Verification(
                False,
                count,
                entry.seq - 1,
                f"entry {entry.seq - 1} was edited or replaced: entry {entry.seq} no longer "
                "links to it",
            )
        if _digest(entry) != entry.hash:
            return Verification(
                False,
                count,
                entry.seq,
                f"entry {entry.seq} was edited: its content no longer matches its hash",
            )
        prev_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    last = (expected_seq - 1, prev_hash)
    if head is not None and head != last:
        if head[0] > last[0]:
            return Verification(
                False,
                count,
                last[0] + 1,
                f"entries {last[0] + 1} to {head[0]} were deleted from the end of the log",
            )
        return Verification(
            False,
            count,
            head[0],
            f"the log does not end where it was last written (entry {head[0]}): entries "
            "were inserted or the newest entry was edited",
        )
    if head is None and count:
        return Verification(False, count, 1, "the log's recorded head is missing")
    return Verification(
        True, count, None, f"the audit chain is intact ({counted(count, 'entry', 'entries')})"
    )

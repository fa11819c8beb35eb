"""The audit log (``ledger.governance.audit``): reading it, verifying the log (chain, signed
checkpoints, replay against the tables), and signing a checkpoint. ``Session.record`` appends
an entry with the state it gives the tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from valuegap.errors import ConfigError, ValuegapError
from valuegap.governance.checkpoints import Checkpoint
from valuegap.governance.proof import BASELINE, prove
from valuegap.model.audit import AuditEntry, Verification, verify
from valuegap.session import Part, Session
from valuegap.store.audit import AuditStore
from valuegap.store.proof import DEFINITIONS, FACTS, Totals, read_rows, read_totals
from valuegap.words import counted


class AuditLog(Part):
    """The audit log: every change and decision, hash-chained; ``Session.record`` appends."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._audit = AuditStore(session.db)

    def audit_log(
        self, *, entity_id: str | None = None, limit: int | None = None, before: int | None = None
    ) -> list[AuditEntry]:
        """Newest first: about ``entity_id`` if given, older than the entry ``before`` if given
        (the next page after one that ended there), at most ``limit``. A contributor reads
        those about their business units and what is theirs, and those about what every role
        reads anyway (governance/audit_scope.py)."""
        from valuegap.costs.scope import cost_scope
        from valuegap.governance.audit_scope import SCOPED, visible_entities

        self._require("read")
        scope = cost_scope(self._session)
        only = None if scope is None else (SCOPED, visible_entities(self._db, scope))
        entries = self._audit.entries(
            entity_id=entity_id, limit=limit, newest_first=True, before=before, only=only
        )
        return list(entries)

    def record_baseline(self) -> None:
        """The entry replay starts from in a ledger whose log was written before entries kept
        their state: every definition table and every fact total as they are now."""
        self._record(
            BASELINE,
            "ledger",
            "ledger",
            None,
            {
                "reason": "entries before this one do not keep the state they gave the tables; "
                "the log proves the tables from here"
            },
            changed=[(table, {}) for table in DEFINITIONS],
            totals=self._fact_totals(),
        )
        self._audit.baseline_recorded()

    def _fact_totals(self) -> Totals:
        found: Totals = {}
        for table in FACTS:
            found.update(read_totals(self._db, table))
        return found

    def verify_audit(
        self, checkpoints: Path | None = None, public_key: Path | None = None
    ) -> Verification:
        """Check the hash chain; that the log extends every signed checkpoint in the file
        ``checkpoints`` (checked with ``public_key``, else the signing key's public half);
        and that replaying the log gives the tables and the facts' totals. All of it as of
        one moment, while writes go on."""
        self._require("read")
        with self._db.snapshot():
            return self._verify_audit(checkpoints, public_key)

    def _verify_audit(self, checkpoints: Path | None, public_key: Path | None) -> Verification:
        from valuegap.governance.checkpoints import read_checkpoints

        entries = list(self._audit.entries())
        chain = verify(entries, self._audit.head())
        if not chain.ok:
            return chain
        signed = read_checkpoints(checkpoints) if checkpoints is not None else []
        if signed:
            problem = self._check_checkpoints(entries, signed, public_key)
            if problem is not None:
                return replace(chain, ok=False, bad_seq=problem[0], message=problem[1])
        proof = prove(entries, lambda table: read_rows(self._db, table), self._fact_totals())
        if not proof.ok:
            return replace(
                chain,
                ok=False,
                bad_seq=proof.bad_seq,
                message=proof.message,
                proven_from=proof.proven_from,
            )
        message = f"{chain.message}; {proof.message}"
        if signed:
            latest = signed[-1]
            at = f"entry {latest.seq}, signed {latest.signed_at}"
            extends = (
                f"the signed checkpoint (at {at})"
                if len(signed) == 1
                else f"all {counted(len(signed), 'signed checkpoint')} (the latest at {at})"
            )
            message += f"; it extends {extends}"
        return replace(
            chain, message=message, proven_from=proof.proven_from, checkpoints=len(signed)
        )

    def _check_checkpoints(
        self, entries: list[AuditEntry], signed: list[Checkpoint], public_key: Path | None
    ) -> tuple[int, str] | None:
        """The first checkpoint the log does not extend (or that is not signed by the key):
        its seq and why."""
        from valuegap.governance.checkpoints import (
            check_signature,
            key_path,
            public_path,
            verifying_key,
        )

        if public_key is None:
            private = key_path(self.settings.audit_key)
            public_key = private if private.exists() else public_path(private)
        key = verifying_key(public_key)
        hashes = {entry.seq: entry.hash for entry in entries}
        last = entries[-1].seq if entries else 0
        for number, checkpoint in enumerate(signed, start=1):
            name = f"checkpoint {number} (entry {checkpoint.seq}, signed {checkpoint.signed_at})"
            why = check_signature(checkpoint, key)
            if why is not None:
                return checkpoint.seq, f"{name} is not valid: {why}"
            if checkpoint.seq > last:
                return checkpoint.seq, (
                    f"the log ends at entry {last}, but {name} signed entry {checkpoint.seq}: "
                    "entries were deleted from the log"
                )
            if hashes[checkpoint.seq] != checkpoint.hash:
                return checkpoint.seq, (
                    f"entry {checkpoint.seq} is not the entry {name} signed: the log was "
                    "rewritten at or before it (an entry edited, inserted, removed or "
                    "reordered, and the chain recomputed)"
                )
        return None

    def checkpoint(self, to: str | None = None) -> tuple[Checkpoint, str]:
        """Sign the log's head, once the log verifies (against the checkpoints already in the
        file ``to``, if it is one), and deliver the checkpoint to ``to`` (a file or an http(s)
        URL; default: the setting ``checkpoint_to``). Returns it and where it went. The head
        signed is the one verified, whatever is written meanwhile."""
        self._require("read")
        with self._db.snapshot():
            return self._checkpoint(to)

    def _checkpoint(self, to: str | None) -> tuple[Checkpoint, str]:
        from valuegap.governance.checkpoints import deliver, key_path, sign, signing_key

        target = to or self.settings.checkpoint_to
        if not target:
            raise ConfigError(
                "Say where the checkpoint goes: `to`, a file (JSON lines the governance "
                "council keeps) or a URL (a webhook), or checkpoint_to in valuegap.toml."
            )
        private = key_path(self.settings.audit_key)
        key = signing_key(private)
        earlier = Path(target) if not target.startswith(("http://", "https://")) else None
        kept = earlier if earlier and earlier.exists() and earlier.stat().st_size else None
        checked = self.verify_audit(kept, private)
        if not checked.ok:
            raise ValuegapError(
                f"The audit log does not verify, so it was not signed: {checked.message}."
            )
        head = self._audit.head()
        if head is None:
            raise ValuegapError("The audit log is empty: there is nothing to sign.")
        entry = next(self._audit.entries(limit=1, newest_first=True))
        signed = sign(key, head[0], head[1], entry.recorded_at, self._now())
        return signed, deliver(signed, target)

"""``Session``: what every part of the ledger shares, and nothing else.

An open ledger acting as one user: the database, the actor, the clock and the settings, the
permission check (the actor's role, and the separation of duties) and the audit record that
every change appends in its transaction (an agent's decision, by group commit:
``record_small_write``). ``Ledger`` builds one session and hands it to each of its parts;
``Ledger.acting_as`` builds another session on the same database (and so the same writer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from valuegap.model import roles
from valuegap.model.audit import GENESIS, canonical_json, seal, seal_json
from valuegap.model.duties import check_duties
from valuegap.model.roles import Permission as Permission  # what a part requires
from valuegap.records import record
from valuegap.settings import Settings
from valuegap.store.audit import AuditStore
from valuegap.store.database import Database, utcnow
from valuegap.store.proof import Totals, json_value, read_rows
from valuegap.store.users import UserStore

Kept = TypeVar("Kept")

Clock = Callable[[], datetime]
# (table, where): the rows of a definition table a change left, those whose columns have
# these values (``{}``: the whole table).
Changed = Sequence[tuple[str, Mapping[str, Any]]]


# The small writes of one kind that join a group commit (agents' decisions, and their requests
# for approval): run once for a batch's items of its kind, holding the audit chain, it
# returns for each item its result, the entry's ``after`` and the entry's ``state`` (built
# from the rows it wrote; ``{}``: none).
SmallWrites = Callable[[Database, Sequence[Any]], Sequence[tuple[Any, Any, dict[str, Any]]]]


@record
class _Draft:
    """An entry waiting for its place in the chain: the record of a small write (``item``,
    written by ``write``) made in the batch."""

    clock: Clock
    actor: str
    action: str
    entity_type: str
    entity_id: str
    write: SmallWrites
    item: Any


def _append_in_order(db: Database, drafts: Sequence[_Draft]) -> list[Any]:
    """Make the drafts' writes and chain their entries onto the head, in order, holding the
    audit chain (store.writer group commit): each draft's write's result."""
    if db.journal_batch is None:  # decisions in a write's own transaction
        db.enter_chain()
    written = _small_writes(db, drafts)
    audit = AuditStore(db)
    head = audit.head()
    seq, prev = head if head else (0, GENESIS)
    entries, results = [], []
    for index, draft in enumerate(drafts):
        result, made, kept = written[index]
        entry = seal_json(
            seq=seq + 1,
            at=draft.clock(),
            actor=draft.actor,
            action=draft.action,
            entity_type=draft.entity_type,
            entity_id=draft.entity_id,
            before=None,
            after=canonical_json(made),
            prev_hash=prev,
            state=canonical_json(kept or None),
        )
        entries.append(entry)
        results.append(result)
        seq, prev = entry.seq, entry.hash
    audit.append_all(entries)
    return results


def _small_writes(db: Database, drafts: Sequence[_Draft]) -> dict[int, tuple[Any, Any, Any]]:
    """The drafts' small writes, those of one kind in one call (by the index of their draft):
    a kind's statements run once for the batch, not once for each of its writes."""
    kinds: dict[SmallWrites, list[int]] = {}
    for index, draft in enumerate(drafts):
        kinds.setdefault(draft.write, []).append(index)
    written: dict[int, tuple[Any, Any, Any]] = {}
    for write, indexes in kinds.items():
        written.update(zip(indexes, write(db, [drafts[i].item for i in indexes]), strict=True))
    return written


def state_of(db: Database, changed: Changed) -> dict[str, Any]:
    """What an entry keeps of the definition rows its change left (store/proof.py), read."""
    return rows_state([(table, where, read_rows(db, table, where)) for table, where in changed])


# (table, where, the rows matching ``where`` that a change left, as stored)
ChangedRows = Sequence[tuple[str, Mapping[str, Any], list[dict[str, Any]]]]


def rows_state(changed: ChangedRows) -> dict[str, Any]:
    """An entry's state from the rows each change left (as stored), by table and ``where``."""
    if not changed:
        return {}
    rows = [
        {
            "table": table,
            "where": {k: json_value(v) for k, v in where.items()},
            "rows": [{k: json_value(v) for k, v in row.items()} for row in found],
        }
        for table, where, found in changed
    ]
    return {"rows": rows}


class Session:
    """One user's view of one open ledger."""

    def __init__(
        self, db: Database, *, actor: str, settings: Settings, clock: Clock = utcnow
    ) -> None:
        self.db = db
        self.actor = actor
        self.settings = settings
        self.clock = clock
        self._users = UserStore(db)
        self._audit = AuditStore(db)

    @property
    def path(self) -> Path:
        return self.db.path

    def until_written(self, key: Hashable, read: Callable[[], Kept]) -> Kept:
        """``read()``, kept until the next write to the ledger (of anyone's): a view that
        several reports make up (a dashboard page) is made once between writes."""
        return self.db.cached(("until_written", key), read)

    def now(self) -> datetime:
        return self.clock()

    def units_in_scope(self) -> tuple[str, ...] | None:
        """The business units the actor is limited to (a contributor's), or None for all."""
        user = self._users.get(self.actor)
        return user.units if user is not None and user.role in roles.SCOPED_ROLES else None

    def require(
        self, permission: Permission, unit: str | None = None, initiative: str | None = None
    ) -> None:
        """Raise ``PermissionDenied`` unless the actor may do ``permission`` (in business unit
        ``unit``, to ``initiative``): by their role, and by the separation of duties."""
        user = self._users.get(self.actor)
        if user is not None:
            check_duties(user, permission, initiative)
        roles.require(user, self.actor, permission, unit)

    def record(
        self,
        action: str,
        entity_type: str,
        entity_id: str,
        before: Any,
        after: Any,
        *,
        changed: Changed = (),
        totals: Totals | None = None,
    ) -> None:
        """Append an entry (in the caller's transaction, after its writes): with the rows
        ``changed`` left and the fact ``totals`` it added, so that the log can be replayed."""
        state = state_of(self.db, changed)
        if totals:
            state["totals"] = totals
        self.db.enter_chain()  # decisions wait from now until this transaction ends
        head = self._audit.head()
        seq, prev = head if head else (0, GENESIS)
        self._audit.append(
            seal(
                seq=seq + 1,
                at=self.now(),
                actor=self.actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                prev_hash=prev,
                state=state or None,
            )
        )

    def record_small_write(
        self, action: str, entity_type: str, entity_id: str, write: SmallWrites, item: Any
    ) -> Any:
        """A small write (``item``) and its entry, made durable by group commit with those
        queued meanwhile (an agent's decision): ``write`` writes the batch's items of its kind
        together (those given the same function: a module's, not a closure), holding the audit
        chain but not the writer (``Database.journaled``), and must change nothing that the
        read cache holds. The batch goes to the journal (store/journal.py), so ``write`` may
        only make what a journal batch holds (``Database.journal_batch``: audit entries,
        approval requests); inside the caller's own transaction it joins that transaction.
        Returns ``item``'s result once durable."""
        draft = _Draft(self.clock, self.actor, action, entity_type, entity_id, write, item)
        return self.db.in_group(draft, _append_in_order, commit="journal")


class Part:
    """A part of the ledger (costs, outcomes, governance, ...): it takes the session's
    database, actor, settings, clock, permission check and audit record in its constructor,
    and the other parts it needs as further arguments."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._db = session.db
        self.actor = session.actor
        self.settings = session.settings
        self._require = session.require
        self._record = session.record
        self._now = session.now


class BuildsParts(Protocol):
    """What holds parts built on first use: the lock they are built under."""

    _building: threading.RLock


Owner = TypeVar("Owner", bound=BuildsParts)
Built = TypeVar("Built")


class built_on_first_use(Generic[Owner, Built]):
    """A part (``@built_on_first_use`` on the method that builds it) built when it is first
    asked for, so that a command imports the modules of the parts it uses only. One owner is
    shared by many threads (a server): the part is built under the owner's lock, once; a
    re-entrant lock, since a part builds the parts it is given. Once built it is an attribute
    of the owner, read without the lock."""

    def __init__(self, build: Callable[[Owner], Built]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, owner: None, kind: type[Any]) -> built_on_first_use[Owner, Built]: ...
    @overload
    def __get__(self, owner: Owner, kind: type[Any]) -> Built: ...
    def __get__(
        self, owner: Owner | None, kind: type[Any]
    ) -> built_on_first_use[Owner, Built] | Built:
        if owner is None:
            return self
        with owner._building:
            built = vars(owner)
            if self._name not in built:
                built[self._name] = self._build(owner)
            part: Built = built[self._name]
            return part

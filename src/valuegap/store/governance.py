"""Policy versions, approval requests and review recommendations in the ledger file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from pydantic import JsonValue

from valuegap.records import record
from valuegap.store.database import Database
from valuegap.store.literals import literal
from valuegap.store.read_cache import PENDING_AGENT_APPROVALS

# Who asks for which action: agent, requested_by, action, amount, context (JSON).
ApprovalKey = tuple[str, str, str, Decimal | None, str]
Row = dict[str, Any]


# The tables that cached reads read (store/read_cache.py).
POLICY_TABLES = frozenset({"policies"})
_APPROVAL_TABLES = frozenset({"agent_approvals"})

# agent_approvals.amount is DECIMAL(38, 10); DuckDB's cast of text to it rounds half up.
_AMOUNT_PLACES = Decimal("1E-10")
_AMOUNT_CONTEXT = Context(prec=38, rounding=ROUND_HALF_UP)


# The least amount that the column (28 digits before the point) cannot keep once rounded.
_TOO_LARGE = Decimal("9999999999999999999999999999.99999999995")

_SORTED = json.JSONEncoder(sort_keys=True)  # made once: json.dumps with options makes one a call


def fits_amount(amount: Decimal) -> bool:
    """Whether an approval request's amount column can keep ``amount`` (rounded as it is)."""
    return amount < _TOO_LARGE


def _as_stored(amount: Decimal | None) -> Decimal | None:
    """An amount as its column keeps it, so that the row an entry records is the stored one."""
    return None if amount is None else amount.quantize(_AMOUNT_PLACES, context=_AMOUNT_CONTEXT)


@record
class AskedApproval:
    """A request for approval of an agent's action, as the store writes it."""

    agent: str
    action: str
    amount: Decimal | None
    context: str  # JSON object of strings, keys sorted
    rules: str  # JSON: the rules that asked for approval
    policy_versions: str  # JSON
    requested_at: datetime
    requested_by: str

    @classmethod
    def of(
        cls,
        asked: dict[str, Any],
        rules: JsonValue,
        versions: dict[str, int],
        at: datetime,
        by: str,
    ) -> AskedApproval:
        """``asked``: agent, action, amount, context; ``rules``: the JSON form of the rules
        that asked for approval. The amount is kept as its column keeps it, so that a request
        read back from the table has the same key as the one asked again."""
        context = _SORTED.encode(asked["context"])
        return cls(
            asked["agent"],
            asked["action"],
            _as_stored(asked["amount"]),
            context,
            json.dumps(rules),
            json.dumps(versions),
            at,
            by,
        )

    @property
    def key(self) -> ApprovalKey:
        return (self.agent, self.requested_by, self.action, self.amount, self.context)


# Requests as JSON arrays of their rows (one a batch), parsed by DuckDB: what the journal moves
# (store/journal.py).
_APPROVALS_FROM_JSON = """INSERT INTO agent_approvals SELECT a.id, a.agent, a.action,
    a.amount::DECIMAL(38, 10), a.context, 'pending', a.rules, a.policy_versions,
    a.requested_at::TIMESTAMP, a.requested_by, NULL, NULL, NULL
FROM (SELECT unnest(from_json(rows, '[{"id": "INTEGER", "agent": "VARCHAR", "action": "VARCHAR",
    "amount": "VARCHAR", "context": "VARCHAR", "rules": "VARCHAR", "policy_versions": "VARCHAR",
    "requested_at": "VARCHAR", "requested_by": "VARCHAR"}]')) AS a
    FROM unnest(?::VARCHAR[]) AS arrays(rows))"""


def agent_approvals_from_json_statement(arrays: list[str]) -> tuple[str, list[Any]]:
    """The statement that adds the new pending requests of ``arrays``, JSON arrays of their
    rows as stored (amounts as text, times in ISO 8601)."""
    return _APPROVALS_FROM_JSON, [arrays]


def _texts(amounts: Sequence[Decimal | None]) -> list[str | None]:
    """Amounts as text for a DECIMAL cast: DuckDB reads a Decimal parameter with an exponent
    (``Decimal("1E+3")``) as its digits only (1)."""
    return [None if amount is None else str(amount) for amount in amounts]


def _agent_approvals_statement(rows: Sequence[Row]) -> tuple[str, list[Any]]:
    """The statement that adds new pending requests (``rows`` as stored)."""
    return (
        "INSERT INTO agent_approvals SELECT unnest(?), unnest(?), unnest(?), "
        "unnest(?::VARCHAR[])::DECIMAL(38, 10), unnest(?), 'pending', unnest(?), unnest(?), "
        "unnest(?), unnest(?), NULL, NULL, NULL",
        [
            [row["id"] for row in rows],
            [row["agent"] for row in rows],
            [row["action"] for row in rows],
            _texts([row["amount"] for row in rows]),
            [row["context"] for row in rows],
            [row["rules"] for row in rows],
            [row["policy_versions"] for row in rows],
            [row["requested_at"] for row in rows],
            [row["requested_by"] for row in rows],
        ],
    )


@dataclass
class _PendingApprovals:
    rows: dict[ApprovalKey, Row]  # the oldest pending request of each key
    next_id: int


class GovernanceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Policies: every version is kept; the newest of each layer and scope is in force.

    def current_policies(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            return self._db.all(
                "SELECT layer, scope, version, rules, source, applied_at, applied_by "
                "FROM policies QUALIFY version = max(version) OVER (PARTITION BY layer, scope) "
                "ORDER BY layer = 'initiative', layer = 'business_unit', scope"
            )

        return self._db.cached("policies", read, POLICY_TABLES)

    def has_policies(self) -> bool:
        """Whether any policy was ever applied (cheaper than reading those in force)."""
        row = self._db.one("SELECT EXISTS (SELECT 1 FROM policies)")
        return bool(row and row[0])

    def policy_versions(self, layer: str, scope: str) -> list[dict[str, Any]]:
        return self._db.all(
            "SELECT layer, scope, version, rules, source, applied_at, applied_by FROM policies "
            "WHERE layer = ? AND scope = ? ORDER BY version",
            [layer, scope],
        )

    def add_policy(
        self, layer: str, scope: str, rules: str, source: str, at: datetime, by: str
    ) -> int:
        row = self._db.one(
            "SELECT coalesce(max(version), 0) + 1 FROM policies WHERE layer = ? AND scope = ?",
            [layer, scope],
        )
        version = int(row[0]) if row else 1
        self._db.execute(
            "INSERT INTO policies VALUES (?, ?, ?, ?, ?, ?, ?)",
            [layer, scope, version, rules, source, at, by],
        )
        return version

    # Approval requests for stage moves.

    def add_approval(
        self,
        move: dict[str, Any],
        rules: JsonValue,
        versions: dict[str, int],
        at: datetime,
        by: str,
    ) -> int:
        """``move``: initiative, from_stage, to_stage, reason, learnings; ``rules``: the JSON
        form of the rules that asked for approval."""
        row = self._db.one("SELECT coalesce(max(id), 0) + 1 FROM approvals")
        approval_id = int(row[0]) if row else 1
        self._db.execute(
            "INSERT INTO approvals VALUES "
            "(?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [approval_id, move["initiative"], move["from_stage"], move["to_stage"],
             json.dumps(rules), json.dumps(versions), move.get("reason"), move.get("learnings"),
             at, by],
        )  # fmt: skip
        return approval_id

    def approvals(
        self, *, status: str | None = None, approval_id: int | None = None
    ) -> list[dict[str, Any]]:
        rows = self._db.all(
            "SELECT * FROM approvals WHERE (? IS NULL OR status = ?) AND (? IS NULL OR id = ?) "
            "ORDER BY id",
            [status, status, approval_id, approval_id],
        )
        for row in rows:
            row["rules"] = json.loads(row["rules"])
            row["policy_versions"] = json.loads(row["policy_versions"])
        return rows

    def decided_approvals(self, initiatives: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """The ``limit`` latest decided approvals of ``initiatives``, latest first."""
        rows = self._db.all(
            "SELECT * FROM approvals WHERE status <> 'pending' AND list_contains(?, initiative) "
            "ORDER BY coalesce(decided_at, requested_at) DESC, id DESC LIMIT ?",
            [list(initiatives), limit],
        )
        for row in rows:
            row["rules"] = json.loads(row["rules"])
            row["policy_versions"] = json.loads(row["policy_versions"])
        return rows

    def decide_approval(
        self, approval_id: int, status: str, at: datetime, by: str, note: str | None
    ) -> None:
        self._db.execute(
            "UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, note = ? "
            "WHERE id = ?",
            [status, at, by, note, approval_id],
        )

    def withdraw_pending(self, initiative: str, at: datetime, by: str, note: str) -> list[int]:
        """Close every pending request of ``initiative``; the ids closed."""
        pending = [
            a["id"] for a in self.approvals(status="pending") if a["initiative"] == initiative
        ]
        for approval_id in pending:
            self.decide_approval(approval_id, "withdrawn", at, by, note)
        return pending

    # Approval requests for agents' actions.

    def ask_agent_approvals(self, asked: Sequence[AskedApproval]) -> list[Row]:
        """For each request, in order, the row as stored: the pending request its caller made
        already for the same action (before, or earlier in ``asked``), else a new one. One
        INSERT for all of them (a group-commit batch's requests), in the caller's transaction.

        The pending requests and the next request's id are read once and kept in the read
        cache. Only a write holding the audit chain reads them (a decision batch, or a write
        that takes the chain first), and it adds its new ones in place rather than to a
        copy (copying thousands of pending requests for each batch cost a tenth of the
        decisions' throughput): a write that fails empties the cache, as one that commits does
        (``Database.transaction``), and so does any other change of a request (a decision on
        it)."""
        db = self._db
        if db.journal_batch is None:  # a decision in a write's own transaction
            db.enter_chain()
        pending = db.cached(
            PENDING_AGENT_APPROVALS, self._pending_agent_approvals, _APPROVAL_TABLES
        )
        first: dict[ApprovalKey, AskedApproval] = {}
        for request in asked:
            if request.key not in pending.rows:
                first.setdefault(request.key, request)
        if first:
            made = self._add_agent_approvals(pending.next_id, list(first.values()))
            pending.rows.update(zip(first, made, strict=True))
            pending.next_id += len(made)
            self._db.remember(PENDING_AGENT_APPROVALS, pending, _APPROVAL_TABLES)
        return [pending.rows[request.key] for request in asked]

    def _pending_agent_approvals(self) -> _PendingApprovals:
        """The oldest pending request of each key that has one, and the next request's id:
        in the table and, for a decision batch, in the journal too (store/journal.py). The
        journal is read first, and then the table in one statement: a move may land the
        journal's requests in the table meanwhile, and then they are in both (counted once),
        never in neither."""
        held = self._db.journal_approvals() if self._db.journal_batch is not None else []
        first = min((row["id"] for row in held), default=None)
        read = self._db.all(
            "SELECT * FROM agent_approvals WHERE status = 'pending' OR id >= ? ORDER BY id",
            [first],
        )
        stored = {row["id"] for row in read}
        rows = [row for row in read if row["status"] == "pending"]
        rows += [row for row in held if row["id"] not in stored]
        last = self._db.one("SELECT coalesce(max(id), 0) FROM agent_approvals")
        last_id = max([int(last[0]) if last else 0, *(row["id"] for row in held)])
        found: dict[ApprovalKey, Row] = {}
        for row in rows:
            key = (row["agent"], row["requested_by"], row["action"], row["amount"], row["context"])
            found.setdefault(key, row)
        return _PendingApprovals(found, last_id + 1)

    def _add_agent_approvals(self, first_id: int, asked: list[AskedApproval]) -> list[Row]:
        """New pending requests, their ids from ``first_id`` on, in order; the rows as stored
        (made here rather than read back with ``RETURNING``, a fifth of the INSERT)."""
        rows: list[Row] = [
            {
                "id": first_id + index,
                "agent": request.agent,
                "action": request.action,
                "amount": request.amount,
                "context": request.context,
                "status": "pending",
                "rules": request.rules,
                "policy_versions": request.policy_versions,
                "requested_at": request.requested_at,
                "requested_by": request.requested_by,
                "decided_at": None,
                "decided_by": None,
                "note": None,
            }
            for index, request in enumerate(asked)
        ]
        batch = self._db.journal_batch
        if batch is not None:
            batch.approvals.extend(rows)
        else:
            # nothing a decision reads from the cache
            self._db.execute(*_agent_approvals_statement(rows), keeps_cache=True)
        return rows

    def agent_approvals(
        self,
        *,
        agent: str | None = None,
        approval_id: int | None = None,
        status: str | None = None,
    ) -> list[dict[str, Any]]:
        self._db.settle()
        rows = self._db.all(
            "SELECT * FROM agent_approvals WHERE (? IS NULL OR agent = ?) "
            "AND (? IS NULL OR id = ?) AND (? IS NULL OR status = ?) ORDER BY id",
            [agent, agent, approval_id, approval_id, status, status],
        )
        for row in rows:
            for name in ("context", "rules", "policy_versions"):
                row[name] = json.loads(row[name])
        return rows

    def decide_agent_approval(
        self, approval_id: int, status: str, at: datetime, by: str, note: str | None
    ) -> None:
        self._db.execute(
            "UPDATE agent_approvals SET status = ?, decided_at = ?, decided_by = ?, note = ? "
            "WHERE id = ?",
            [status, at, by, note, approval_id],
        )

    # Review recommendations.

    def add_review(self, review: dict[str, Any], at: datetime, by: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                review["initiative"],
                review["as_of"],
                review["due"],
                review["recommendation"],
                json.dumps(review["reasons"]),
                at,
                by,
            ],
        )

    def reviews(self, initiative: str | None = None) -> list[dict[str, Any]]:
        of = "true" if initiative is None else f"initiative = {literal(initiative)}"
        rows = self._db.all(
            "SELECT initiative, as_of, due, recommendation, reasons, recorded_at, recorded_by "
            f"FROM reviews WHERE {of} ORDER BY as_of, initiative"
        )
        for row in rows:
            row["reasons"] = json.loads(row["reasons"])
        return rows

    def recorded_reviews(self, initiatives: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """The ``limit`` reviews of ``initiatives`` recorded last, latest first."""
        rows = self._db.all(
            "SELECT initiative, as_of, due, recommendation, reasons, recorded_at, recorded_by "
            "FROM reviews WHERE list_contains(?, initiative) "
            "ORDER BY recorded_at DESC, initiative LIMIT ?",
            [list(initiatives), limit],
        )
        for row in rows:
            row["reasons"] = json.loads(row["reasons"])
        return rows

    def review_clocks(self) -> dict[str, tuple[datetime, date | None]]:
        """Of each initiative that entered the MVP: when it last did, and its latest review's
        as-of day (None if never reviewed), in one query."""
        rows = self._db.all(
            "SELECT h.initiative_id AS initiative, max(h.moved_at) AS entered, "
            "(SELECT max(r.as_of) FROM reviews r WHERE r.initiative = h.initiative_id) AS last "
            "FROM stage_history h WHERE h.to_stage = 'mvp' GROUP BY h.initiative_id"
        )
        return {row["initiative"]: (row["entered"], row["last"]) for row in rows}

    def latest_review(self, initiative: str) -> dict[str, Any] | None:
        """The initiative's review of the latest as-of date, if it has one (every agent
        decision reads it: cached until a review is written)."""

        def read() -> dict[str, Any] | None:
            rows = self._db.all(
                "SELECT as_of, recommendation FROM reviews WHERE initiative = ? "
                "ORDER BY as_of DESC LIMIT 1",
                [initiative],
            )
            return rows[0] if rows else None

        return self._db.cached(("latest_review", initiative), read, frozenset({"reviews"}))

    def last_review(self, initiative: str) -> date | None:
        latest = self.latest_review(initiative)
        return None if latest is None else latest["as_of"]

"""Policy versions, approval requests and review recommendations in the ledger file."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import JsonValue

from valuegap.store.database import Database


class GovernanceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Policies: every version is kept; the newest of each layer and scope is in force.

    def current_policies(self) -> list[dict[str, Any]]:
        return self._db.cached("policies", lambda: self._db.all(
            "SELECT layer, scope, version, rules, source, applied_at, applied_by FROM policies "
            "QUALIFY version = max(version) OVER (PARTITION BY layer, scope) "
            "ORDER BY layer = 'initiative', layer = 'business_unit', scope"
        ))  # fmt: skip

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

    def add_agent_approval(
        self,
        asked: dict[str, Any],
        rules: JsonValue,
        versions: dict[str, int],
        at: datetime,
        by: str,
    ) -> dict[str, Any]:
        """``asked``: agent, action, amount, context; ``rules``: the JSON form of the rules that
        asked for approval. The row as stored."""
        values = [
            asked["agent"],
            asked["action"],
            asked["amount"],
            json.dumps(asked["context"], sort_keys=True),
            json.dumps(rules),
            json.dumps(versions),
            at,
            by,
        ]
        rows = self._db.all(  # the next id in the INSERT itself, and the row as stored
            "INSERT INTO agent_approvals SELECT coalesce(max(id), 0) + 1, ?, ?, ?, ?, "
            "'pending', ?, ?, ?, ?, NULL, NULL, NULL FROM agent_approvals RETURNING *",
            values,
            keeps_cache=True,  # nothing a decision reads from the cache
        )
        return rows[0]

    def pending_agent_approval(self, asked: dict[str, Any], by: str) -> dict[str, Any] | None:
        """The pending request ``by`` made already for the same action (``asked``: agent,
        action, amount, context), if any, as stored."""
        rows = self._db.all(
            "SELECT * FROM agent_approvals WHERE status = 'pending' AND agent = ? "
            "AND requested_by = ? AND action = ? AND amount IS NOT DISTINCT FROM ? "
            "AND context = ? ORDER BY id LIMIT 1",
            [
                asked["agent"],
                by,
                asked["action"],
                asked["amount"],
                json.dumps(asked["context"], sort_keys=True),
            ],
        )
        return rows[0] if rows else None

    def agent_approvals(
        self,
        *,
        agent: str | None = None,
        approval_id: int | None = None,
        status: str | None = None,
    ) -> list[dict[str, Any]]:
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
        rows = self._db.all(
            "SELECT initiative, as_of, due, recommendation, reasons, recorded_at, recorded_by "
            "FROM reviews WHERE ? IS NULL OR initiative = ? ORDER BY as_of, initiative",
            [initiative, initiative],
        )
        for row in rows:
            row["reasons"] = json.loads(row["reasons"])
        return rows

    def latest_review(self, initiative: str) -> dict[str, Any] | None:
        """The initiative's review of the latest as-of date, if it has one (every agent
        decision reads it: cached until a write)."""

        def read() -> dict[str, Any] | None:
            rows = self._db.all(
                "SELECT as_of, recommendation FROM reviews WHERE initiative = ? "
                "ORDER BY as_of DESC LIMIT 1",
                [initiative],
            )
            return rows[0] if rows else None

        return self._db.cached(("latest_review", initiative), read)

    def last_review(self, initiative: str) -> date | None:
        latest = self.latest_review(initiative)
        return None if latest is None else latest["as_of"]

"""Removing cost lines: the rows of a cost table whose keys are given, or that a file yields.

Each table's key as a user gives it: a FOCUS line's ``<line_hash>#<occurrence>`` (or its
``line_hash`` alone, for every occurrence), a usage event's ``event_key`` (its id in the
source, or the hash of its values), a manual entry's ``entry_key`` (all its months).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valuegap.store.database import Database

KEYS = "_valuegap_remove_keys"
FILE_KEYS = "_valuegap_file_keys"  # the keys a file yields, as its loader writes them
# table -> SQL for a row's key, and for another spelling of it (None: it has one)
_KEY_SQL: dict[str, tuple[str, str | None]] = {
    "focus_lines": (
        "CAST(line_hash AS VARCHAR) || '#' || CAST(occurrence AS VARCHAR)",
        "CAST(line_hash AS VARCHAR)",
    ),
    "usage_events": ("event_key", None),
    "manual_costs": ("entry_key", None),
}
TABLES = tuple(_KEY_SQL)


def stage_keys(db: Database, keys: Sequence[str]) -> None:
    """The keys to remove, as given."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} (key VARCHAR)")
    if keys:
        import pyarrow as pa

        db.insert_arrow(KEYS, pa.table({"key": pa.array(list(keys), pa.string())}))


def stage_file_keys(db: Database, table: str) -> None:
    """The keys a file yields (the table ``FILE_KEYS``, as its loader wrote them)."""
    key = "CAST(line_hash AS VARCHAR) || '#' || CAST(occurrence AS VARCHAR)"
    select = f"SELECT {key if table == 'focus_lines' else 'key'} AS key FROM {FILE_KEYS}"
    db.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} AS {select}")
    db.execute(f"DROP TABLE {FILE_KEYS}")


def _matching(table: str) -> str:
    key, other = _KEY_SQL[table]
    found = f"{key} IN (SELECT key FROM {KEYS})"
    return f"({found} OR {other} IN (SELECT key FROM {KEYS}))" if other else found


def unmatched_keys(db: Database, table: str) -> list[str]:
    """The staged keys that no row of ``table`` has."""
    spellings = " UNION ALL ".join(
        f"SELECT {key} FROM {table}" for key in _KEY_SQL[table] if key is not None
    )
    rows = db.all(f"SELECT key FROM {KEYS} WHERE key NOT IN ({spellings}) ORDER BY key")
    return [str(r["key"]) for r in rows]


def matching_rows(db: Database, table: str) -> list[dict[str, Any]]:
    """The rows of ``table`` whose keys are staged, each as stored (a UUID as its text), in
    the order stored."""
    uuid = " REPLACE (CAST(line_hash AS VARCHAR) AS line_hash)" if table == "focus_lines" else ""
    return db.all(f"SELECT *{uuid} FROM {table} WHERE {_matching(table)} ORDER BY rowid")


def delete_matching(db: Database, table: str) -> int:
    row = db.one(f"DELETE FROM {table} WHERE {_matching(table)}")
    db.execute(f"DROP TABLE {KEYS}")
    return int(row[0]) if row else 0

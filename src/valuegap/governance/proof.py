"""Replaying the audit log against the tables: what the log says the ledger holds.

An entry that changes a definition table keeps, in its ``state``, the rows it left in the slice
of the table it changed (``{"table", "where", "rows"}``: every row matching ``where`` after the
change). An ingest keeps the totals per month of what it added, a repricing the change it made
to them (``{"totals": {table: {month: {measure: amount}}}}``), and a removal of fact lines
(``costs.remove``) keeps the rows it removed (``before.rows``), which are subtracted. Replaying
every entry in order gives each definition table's rows and each fact table's totals; they must
equal the tables'. A ledger written before entries kept their state has one ``audit.baseline``
entry, holding every definition table and every total as they were then: replay starts there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from valuegap.decimals import plain
from valuegap.model.audit import AuditEntry
from valuegap.records import record
from valuegap.store.proof import DEFINITIONS, FACTS, Totals, combined, rows_totals

BASELINE = "audit.baseline"
REMOVAL = "costs.remove"
Row = dict[str, Any]
Key = tuple[Any, ...]


@record
class Proof:
    """Whether the tables are what the log says, from which entry that is proven, and the
    first difference found."""

    ok: bool
    proven_from: int | None
    bad_seq: int | None = None
    message: str = ""


@dataclass
class Replayed:
    """The definition tables (table -> key -> (the entry that last set the row, the row)) and
    the fact totals the log gives."""

    rows: dict[str, dict[Key, tuple[int, Row]]] = field(default_factory=dict)
    totals: Totals = field(default_factory=dict)
    proven_from: int | None = None
    problem: Proof | None = None

    def apply(self, entry: AuditEntry) -> None:
        state = json.loads(entry.state) if entry.state else {}
        if entry.action == BASELINE:
            if self.proven_from is not None:
                self.problem = Proof(
                    False,
                    self.proven_from,
                    entry.seq,
                    (
                        f"entry {entry.seq} is a baseline, but the entries before it already prove "
                        "the tables: a baseline is recorded once, when a ledger written before "
                        "entries kept their state is upgraded; this one was forged"
                    ),
                )
                return
            self.totals = {}
        if state and self.proven_from is None:
            self.proven_from = entry.seq
        for change in state.get("rows", []):
            self._replace(entry.seq, change["table"], change["where"], change["rows"])
        if "totals" in state:
            self.totals = combined(self.totals, state["totals"])
        if entry.action == REMOVAL and entry.entity_type in FACTS and entry.before:
            removed = json.loads(entry.before).get("rows", [])
            gone = {entry.entity_type: rows_totals(FACTS[entry.entity_type], removed)}
            self.totals = combined(self.totals, gone, -1)

    def _replace(self, seq: int, table: str, where: Mapping[str, Any], rows: list[Row]) -> None:
        kept = self.rows.setdefault(table, {})
        for key in [k for k, (_, row) in kept.items() if _matches(row, where)]:
            del kept[key]
        for row in rows:
            kept[_key(table, row)] = (seq, row)


def prove(
    entries: Iterable[AuditEntry], table_rows: Callable[[str], list[Row]], totals: Totals
) -> Proof:
    """Replay ``entries`` and compare with the tables (``table_rows(table)``) and the facts'
    ``totals``: the first table, row and field, or total, that differs."""
    replayed = Replayed()
    for entry in entries:
        replayed.apply(entry)
        if replayed.problem is not None:
            return replayed.problem
    start = replayed.proven_from
    for table in DEFINITIONS:
        difference = _first_difference(table, replayed.rows.get(table, {}), table_rows(table))
        if difference is not None:
            seq, message = difference
            return Proof(False, start, seq, message)
    difference_in_totals = _first_total_difference(totals, replayed.totals)
    if difference_in_totals is not None:
        return Proof(False, start, None, difference_in_totals)
    if start is None:
        return Proof(True, None, None, "no entry proves the tables (the log keeps no state)")
    return Proof(True, start, None, f"the tables are as the log says from entry {start}")


def _first_difference(
    table: str, replayed: dict[Key, tuple[int, Row]], rows: list[Row]
) -> tuple[int | None, str] | None:
    actual = {_key(table, row): row for row in rows}
    for key in sorted(set(actual) | set(replayed), key=json.dumps):
        name = f"{table} row {_shown_key(key)}"
        if key not in replayed:
            return None, f"{name} is in the table, but no entry of the log made it"
        seq, expected = replayed[key]
        if key not in actual:
            return seq, f"{name} is not in the table, but entry {seq} made it"
        # Columns a later schema added or removed are proven from the entries that keep them.
        for column in [c for c in actual[key] if c in expected]:
            found, wanted = actual[key][column], expected[column]
            if found != wanted:
                return seq, (
                    f"{name}: {column} is {_shown(found)} in the table, {_shown(wanted)} by the "
                    f"log (entry {seq})"
                )
    return None


def _first_total_difference(actual: Totals, expected: Totals) -> str | None:
    for table in FACTS:
        found, wanted = actual.get(table, {}), expected.get(table, {})
        for month in sorted(set(found) | set(wanted)):
            here, there = found.get(month, {}), wanted.get(month, {})
            # the row count first: a line deleted or added is said as such
            for measure in sorted(set(here) | set(there), key=lambda m: (m != "rows", m)):
                value, logged = here.get(measure, 0), there.get(measure, 0)
                if value != logged:
                    return (
                        f"{table}, {month}: {measure} totals {plain(Decimal(value))} in the "
                        f"table, {plain(Decimal(logged))} by the log's ingests and changes"
                    )
    return None


def _matches(row: Row, where: Mapping[str, Any]) -> bool:
    return all(row.get(column) == value for column, value in where.items())


def _key(table: str, row: Row) -> Key:
    return tuple(row.get(column) for column in DEFINITIONS[table])


def _shown_key(key: Key) -> str:
    return " / ".join(repr(part) for part in key)


def _shown(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."

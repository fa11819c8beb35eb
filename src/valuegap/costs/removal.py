"""Removal (``ledger.costs.removal``): taking wrong cost lines out, by key or by the file they came
from, in one transaction, with the rows removed kept in the audit log.

What depends on a cost line (allocation, counting once: an invoice's token lines split by
usage) is computed again for the months of the lines removed, in the same transaction
(``costs.aggregates``). So a removed invoice line makes its month's usage an estimate again,
and a removed usage event no longer splits its invoice; re-ingesting the file brings the lines
back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from valuegap.errors import IngestError, NotFound, Problem, ValidationError
from valuegap.model.usage import UsageFormat
from valuegap.records import record
from valuegap.results import Record
from valuegap.session import Part, Session
from valuegap.sources import Input, Source, opened
from valuegap.store.costs import CostStore
from valuegap.store.proof import FACTS
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.costs.api import Costs

CostKind = Literal["focus", "usage", "costs"]
# the ingest command's name -> the table its lines are in
TABLES: dict[str, str] = {"focus": "focus_lines", "usage": "usage_events", "costs": "manual_costs"}
_SHOWN_KEYS = 3  # keys named in the audit entry's id; the rest are counted


@record
class Removal:
    """What a removal took out (or, tried dry, would take out): each row as it was stored."""

    table: str
    entity_id: str  # the file's name, or the keys given
    rows: list[Record]  # each as stored (its tags a map)
    dry_run: bool = False

    @property
    def removed(self) -> int:
        return 0 if self.dry_run else len(self.rows)


class CostRemoval(Part):
    """Taking wrong cost lines out; a file is read again as ``costs`` ingests it, and the
    aggregates of the months removed from are computed again by ``costs``."""

    def __init__(self, session: Session, costs: Costs) -> None:
        super().__init__(session)
        self._costs_part = costs

    @writes
    def remove_costs(
        self,
        kind: CostKind,
        *,
        reason: str,
        keys: Sequence[str] = (),
        file: Source | None = None,
        source_name: str | None = None,
        usage_format: UsageFormat | None = None,
        mapping: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Removal:
        """Remove FOCUS lines, usage events or manual cost entries (``kind``, as the ingest
        commands name them): those with ``keys``, or exactly those that ``file`` yields when
        read again as its ingest read it (a usage file in ``usage_format`` with ``mapping``,
        the format told from the content when not given; a path, bytes or a binary stream,
        named in messages by ``source_name``).
        All or nothing, in one transaction, with one audit entry ``costs.remove`` that keeps
        the rows removed and the ``reason``. ``dry_run``: only say what would go."""
        from valuegap.store import removal

        self._require("cost.write")
        problems = []
        if kind not in TABLES:
            problems.append(Problem("kind", "must be focus, usage or costs", kind))
        if not reason.strip():
            problems.append(Problem("reason", "is required: say why the lines are wrong"))
        if not keys and file is None:
            problems.append(Problem("file", "is missing: give the file or the lines' keys"))
        if keys and file is not None:
            problems.append(Problem("keys", "and a file: give one of them, not both"))
        if problems:
            raise ValidationError("Nothing was removed.", problems)
        table = TABLES[kind]
        with self._db.transaction():
            if file is not None:
                documents = kind == "usage" and usage_format in (None, "otel")
                try:
                    with opened(file, source_name, documents=documents) as source:
                        self._stage_file_keys(kind, source, usage_format, mapping)
                except IngestError as unread:  # its message would say "was not ingested"
                    raise ValidationError(
                        f"Nothing was removed: {unread.file} cannot be read as its ingest "
                        "reads it.",
                        unread.problems,
                    ) from unread
                entity_id = source.base_name
            else:
                removal.stage_keys(self._db, keys)
                unknown = removal.unmatched_keys(self._db, table)
                if unknown:
                    raise NotFound(
                        f"No {_NAMES[table][0]} has the key {_described(unknown)}; nothing was "
                        "removed."
                    )
                entity_id = _described(keys)
            rows = removal.matching_rows(self._db, table)
            if not rows:
                raise NotFound(
                    f"None of the {_NAMES[table][1]} that {entity_id} yields is in the ledger; "
                    "nothing was removed."
                )
            if dry_run:
                return Removal(table, entity_id, rows, dry_run=True)
            removal.delete_matching(self._db, table)
            dated = FACTS[table].month  # the column that dates a row
            months = sorted({_month(row[dated]) for row in rows})
            self._costs_part.refresh_aggregates(months)
            if table == "usage_events":
                CostStore(self._db).refresh_usage_by_month(months)
            self._record(
                "costs.remove", table, entity_id, {"rows": rows}, {"reason": reason.strip()}
            )
        return Removal(table, entity_id, rows)

    def _stage_file_keys(
        self,
        kind: str,
        source: Input,
        usage_format: UsageFormat | None,
        mapping: dict[str, str] | None,
    ) -> None:
        """The keys ``source`` yields, read as its ingest reads it; a file with a bad value
        is refused naming its rows, as its ingest would refuse it."""
        from valuegap.costs.usage_format import usage_format as told_format
        from valuegap.store import removal
        from valuegap.store.focus import focus_keys, stage_focus
        from valuegap.store.manual_costs import manual_cost_keys
        from valuegap.store.staging import BrokenRow, stage_file

        if kind == "costs":
            keys = manual_cost_keys(self._db, stage_file(self._db, source))
            removal.stage_keys(self._db, keys)
            return
        if kind == "usage":
            fmt = usage_format or told_format(source, mapping, "usage_format")
            load = self._costs_part.usage_loader(fmt, mapping, None)
            try:
                load(source, 0, keys_only=True)
            except BrokenRow:
                load(source, 0, checks_first=True, keys_only=True)
        else:
            try:
                focus_keys(self._db, stage_focus(self._db, source, bounded=False))
            except BrokenRow:
                focus_keys(self._db, stage_file(self._db, source), checks_first=True)
        removal.stage_file_keys(self._db, TABLES[kind])


_NAMES = {  # table -> (a row, rows)
    "focus_lines": ("FOCUS line", "FOCUS lines"),
    "usage_events": ("usage event", "usage events"),
    "manual_costs": ("manual cost entry", "manual cost entries"),
}


def _month(day: date | datetime) -> date:
    return date(day.year, day.month, 1)


def _described(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:_SHOWN_KEYS])
    more = len(keys) - _SHOWN_KEYS
    return f"{shown} and {more} more" if more > 0 else shown

"""External sources (``ledger.costs.sources``): FOCUS exports and usage logs that stay where
they live (a folder, an object store, a catalogue table), read by the engine.

A sync lists each source's files (its partitions: one per billing period, or per day of a
daily export) and reads only those that are new or changed since the last sync (by size and
modification time), or whose sums were made with other allocation keys (the rules read
other tags) or other prices (an organisation price of their months changed). Their values are
checked as ingest checks them, on the engine; their sums by month and by every key a rollup
looks at come back into the ledger (``source_sums``), and the aggregates of their months are
computed again. A file gone from the source takes its sums with it."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.store.sources import PartitionRow, SourceRow, SourceStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.costs.api import Costs
    from valuegap.costs.engines import Engine
    from valuegap.store.engine import FileFound

KINDS = ("focus", "usage")
FORMATS = ("parquet", "table")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@record
class ExternalSource:
    """A source as the ledger keeps it: where its facts live, its column mapping (usage),
    how many partitions the last sync left, and when it ran."""

    name: str
    kind: str
    location: str
    format: str
    mapping: dict[str, str]
    added_at: datetime
    added_by: str
    partitions: int
    synced_at: datetime | None


@record
class SourceSync:
    """What a sync of one source did: the partitions it ``read`` (new or changed), how many it
    ``kept`` as they were, those ``removed`` (gone from the source), the rows it read, and the
    months whose aggregates it computed again."""

    source: str
    engine: str
    read: tuple[str, ...]
    kept: int
    removed: tuple[str, ...]
    rows: int
    months: tuple[date, ...]


class Sources(Part):
    def __init__(self, session: Session, costs: Costs) -> None:
        super().__init__(session)
        self._store = SourceStore(session.db)
        self._costs = costs

    def sources(self) -> list[ExternalSource]:
        """Every external source."""
        self._require("read")
        found = []
        for row in self._store.sources():
            last = self._store.last_run(row.name)
            found.append(
                ExternalSource(
                    **vars(row),
                    partitions=len(self._store.partitions(row.name)),
                    synced_at=last["ran_at"] if last else None,
                )
            )
        return found

    def partitions(self, name: str) -> dict[str, PartitionRow]:
        """The partitions of the source ``name`` the last syncs read, by path, each with the
        sync (``run``) that read it last."""
        self._require("read")
        self._named(name)
        return self._store.partitions(name)

    @writes
    def add(
        self,
        kind: str,
        name: str,
        location: str,
        fmt: str = "parquet",
        mapping: dict[str, str] | None = None,
        engine: str | None = None,
    ) -> ExternalSource:
        """Define a source of ``kind`` (focus or usage) at ``location`` (a folder or file of
        Parquet, a URL the engine reads, or a catalogue table with ``fmt`` table); usage maps
        its columns with ``mapping`` (field -> column, ``tag.<key>`` -> column). The engine
        reads its schema: one that is not FOCUS (or not usage) is refused, naming what it
        lacks. Nothing is read until a sync."""
        from valuegap.costs.external import focus_problems, not_a_source, usage_problems

        self._require("cost.write")
        mapping = dict(mapping or {})
        problems = []
        if kind not in KINDS:
            problems.append(Problem("kind", f"must be one of {', '.join(KINDS)}", kind))
        if fmt not in FORMATS:
            problems.append(Problem("format", f"must be one of {', '.join(FORMATS)}", fmt))
        if not _NAME.match(name):
            problems.append(
                Problem("name", "must be 1 to 64 lower-case letters, digits, '_', '.' or '-'", name)
            )
        if kind == "focus" and mapping:
            problems.append(
                Problem(
                    "mapping",
                    "is for usage logs: a FOCUS export names its columns as FOCUS does",
                    str(mapping),
                )
            )
        if any(s.name == name for s in self._store.sources()):
            problems.append(Problem("name", "is taken by another source", name))
        if problems:
            raise ValidationError("The source was not added.", problems)
        if fmt == "parquet" and "://" not in location:
            location = os.path.abspath(location)  # the same folder, from wherever it is read
        chosen = self._engine(engine)
        files = chosen.files(location, fmt)
        if not files:
            problem = Problem("location", "holds no Parquet file (*.parquet) to read", location)
            raise ValidationError("The source was not added.", [problem])
        columns = chosen.columns([files[0].path], fmt)
        found = (
            focus_problems(columns, files[0].path)
            if kind == "focus"
            else usage_problems(columns, mapping, files[0].path)
        )
        if found:
            raise not_a_source(kind, location, found)
        row = SourceRow(name, kind, location, fmt, mapping, self._now(), self.actor)
        with self._db.transaction():
            self._store.add(row)
            self._record("source.add", "source", name, None, _fields(row))
        return ExternalSource(**vars(row), partitions=0, synced_at=None)

    @writes
    def remove(self, name: str) -> tuple[date, ...]:
        """Remove the source ``name`` and the sums of its facts (the facts stay where they
        are); returns the months whose aggregates were computed again."""
        self._require("cost.write")
        row = self._named(name)
        with self._db.transaction():
            months = self._store.remove(name)
            self._costs.refresh_aggregates(months)
            self._record("source.remove", "source", name, _fields(row), None)
        return tuple(months)

    @writes
    def sync(self, engine: str | None = None) -> list[SourceSync]:
        """Read what is new or changed in every source (``engine``: duckdb or spark, default
        the setting), all or nothing: a bad value in any file refuses the sync, naming the
        file and row, and nothing changes."""
        self._require("cost.write")
        rows = self._store.sources()
        if not rows:
            return []
        chosen = self._engine(engine)
        with self._db.transaction():
            done = [self._sync(chosen, row) for row in rows]
            months = sorted({m for d in done for m in d.months})
            if months:
                self._costs.refresh_aggregates(months)
        return done

    def _sync(self, engine: Engine, source: SourceRow) -> SourceSync:
        from valuegap.costs.external_sums import partition_sums

        files = engine.files(source.location, source.format)
        stored = self._store.partitions(source.name)
        keys = self._costs.external_keys()
        wanted = {f.path: self._computed_with(source, keys, f.path, stored) for f in files}
        changed = [f for f in files if _changed(f, stored.get(f.path), wanted[f.path])]
        gone = sorted(set(stored) - {f.path for f in files})
        before = self._store.months(source.name, [f.path for f in changed] + gone)
        run = self._store.start_run()
        counts: dict[str, int] = {}
        sums: dict[str, list[dict[str, Any]]] = {}
        if changed:
            counts, sums = partition_sums(
                engine,
                source,
                [f.path for f in changed],
                keys,
                self._costs.pricer(),
                self._costs.cost_column(),
            )
        self._store.drop_partitions(source.name, gone)
        for found in changed:
            with_months = self._computed_with(
                source, keys, found.path, stored, sums.get(found.path, [])
            )
            partition = PartitionRow(
                found.path, found.size, found.modified, counts.get(found.path, 0), with_months, run
            )
            self._store.keep_partition(source.name, partition, sums.get(found.path, []))
        rows_read = sum(counts.values())
        self._store.record_run(
            run,
            source.name,
            engine.name,
            self._now(),
            (len(changed), len(files) - len(changed), len(gone), rows_read),
        )
        after = {r["month"] for found in changed for r in sums.get(found.path, [])}
        months = tuple(sorted(set(before) | after))
        if changed or gone:
            self._record(
                "source.sync",
                "source",
                source.name,
                None,
                {
                    "engine": engine.name,
                    "read": [f.path for f in changed],
                    "removed": gone,
                    "rows": rows_read,
                    "months": [m.isoformat() for m in months],
                },
            )
        return SourceSync(
            source.name,
            engine.name,
            tuple(f.path for f in changed),
            len(files) - len(changed),
            tuple(gone),
            rows_read,
            months,
        )

    def _computed_with(
        self,
        source: SourceRow,
        keys: Sequence[str],
        path: str,
        stored: dict[str, PartitionRow],
        sums: list[dict[str, Any]] | None = None,
    ) -> str:
        """What a partition's sums depend on besides its facts: the keys, the cost column,
        and for usage the prices of its months (``sums``' months, else those stored)."""
        prices = ""
        if source.kind == "usage":
            if sums is not None:
                months = sorted({r["month"] for r in sums})
            else:
                months = self._store.months(source.name, [path]) if path in stored else []
            prices = self._prices_of(months)
        return json.dumps(
            {"keys": list(keys), "cost_column": self._costs.cost_column(), "prices": prices}
        )

    def _prices_of(self, months: Sequence[date]) -> str:
        """A digest of what prices usage of ``months``: the catalogue's version, the provider
        aliases, and the organisation prices in force on a day of them."""
        from importlib.metadata import version

        from valuegap.months import next_month

        pricer = self._costs.pricer()
        first, end = (min(months), next_month(max(months))) if months else (date.min, date.max)
        overrides = [
            repr(o)
            for o in pricer.overrides
            if o.valid_from < end and (o.valid_to is None or o.valid_to > first)
        ]
        text = json.dumps([version("genai-prices"), sorted(pricer.aliases.items()), overrides])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _engine(self, name: str | None) -> Engine:
        from valuegap.costs.engines import engine_for

        settings = self.settings if name is None else replace(self.settings, engine=name)
        return engine_for(settings, self._db)

    def _named(self, name: str) -> SourceRow:
        found = next((s for s in self._store.sources() if s.name == name), None)
        if found is None:
            raise NotFound(f"There is no source {name!r}; the source list shows them.")
        return found


def _changed(found: FileFound, stored: PartitionRow | None, computed_with: str) -> bool:
    return stored is None or (stored.size, stored.modified, stored.computed_with) != (
        found.size,
        found.modified,
        computed_with,
    )


def _fields(row: SourceRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "location": row.location,
        "format": row.format,
        "mapping": row.mapping,
    }

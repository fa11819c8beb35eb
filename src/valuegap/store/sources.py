"""External sources in the ledger: their definitions, the partitions (files) each sync read,
and the sums of each partition. The facts stay where they are; these tables hold what a
rollup needs from them (a few thousand rows, however many facts)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from valuegap.model.usage import TOKEN_FIELDS
from valuegap.records import record
from valuegap.store.database import Database
from valuegap.store.literals import literal

SUM_COLUMNS = ("amount", "tokens", "requests", *TOKEN_FIELDS)


@record
class SourceRow:
    name: str
    kind: str
    location: str
    format: str
    mapping: dict[str, str]
    added_at: datetime
    added_by: str


@record
class PartitionRow:
    partition: str
    size: int
    modified: str
    rows: int
    computed_with: str
    run: int


class SourceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def any(self) -> bool:
        return self._db.one("SELECT count(*) FROM external_sources") != (0,)

    def sources(self) -> list[SourceRow]:
        rows = self._db.all("SELECT * FROM external_sources ORDER BY name")
        return [
            SourceRow(
                r["name"],
                r["kind"],
                r["location"],
                r["format"],
                json.loads(r["mapping"]),
                r["added_at"],
                r["added_by"],
            )
            for r in rows
        ]

    def add(self, source: SourceRow) -> None:
        self._db.execute(
            "INSERT INTO external_sources VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                source.name,
                source.kind,
                source.location,
                source.format,
                json.dumps(source.mapping, sort_keys=True),
                source.added_at,
                source.added_by,
            ],
        )

    def remove(self, name: str) -> list[date]:
        """Remove the source ``name``, its partitions and sums; the months its sums had."""
        months = self.months(name, None)
        for table in ("source_sums", "source_partitions", "external_sources"):
            column = "name" if table == "external_sources" else "source"
            self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
        return months

    def partitions(self, source: str) -> dict[str, PartitionRow]:
        rows = self._db.all(
            "SELECT * EXCLUDE (source) FROM source_partitions WHERE source = ?", [source]
        )
        return {r["partition"]: PartitionRow(**r) for r in rows}

    def months(self, source: str, partitions: Sequence[str] | None) -> list[date]:
        """The months the sums of ``partitions`` (all, if None) of ``source`` have."""
        where, params = "source = ?", [source]
        if partitions is not None:
            if not partitions:
                return []
            where += " AND partition IN (SELECT UNNEST(?))"
            params.append(list(partitions))  # type: ignore[arg-type]
        rows = self._db.all(f"SELECT DISTINCT month FROM source_sums WHERE {where}", params)
        return sorted(r["month"] for r in rows)

    def start_run(self) -> int:
        found = self._db.one("SELECT nextval('source_runs_seq')")
        assert found is not None
        return int(found[0])

    def record_run(
        self, run: int, source: str, engine: str, at: datetime, counts: tuple[int, int, int, int]
    ) -> None:
        self._db.execute(
            "INSERT INTO source_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run, source, engine, at, *counts],
        )

    def last_run(self, source: str) -> dict[str, Any] | None:
        rows = self._db.all(
            "SELECT * FROM source_runs WHERE source = ? ORDER BY run DESC LIMIT 1", [source]
        )
        return rows[0] if rows else None

    def drop_partitions(self, source: str, partitions: Sequence[str]) -> None:
        if not partitions:
            return
        for table in ("source_sums", "source_partitions"):
            self._db.execute(
                f"DELETE FROM {table} WHERE source = ? AND partition IN (SELECT UNNEST(?))",
                [source, list(partitions)],
            )

    def keep_partition(
        self, source: str, found: PartitionRow, sums: Iterable[Mapping[str, Any]]
    ) -> None:
        """Record the partition ``found`` as read, with its ``sums`` (each: month, the
        rollup's keys, and ``SUM_COLUMNS``), replacing what it had."""
        import pyarrow as pa

        self.drop_partitions(source, [found.partition])
        self._db.execute(
            "INSERT INTO source_partitions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                found.partition,
                found.size,
                found.modified,
                found.rows,
                found.computed_with,
                found.run,
            ],
        )
        rows = list(sums)
        if not rows:
            return
        keys = [k for k in rows[0] if k not in SUM_COLUMNS and k != "month"]
        table = {
            "source": pa.array([source] * len(rows), pa.string()),
            "partition": pa.array([found.partition] * len(rows), pa.string()),
            "month": pa.array([r["month"] for r in rows], pa.date32()),
            "attributes": pa.array(
                [json.dumps({k: r[k] for k in keys}, default=str) for r in rows], pa.string()
            ),
            "amount": pa.array([r["amount"] for r in rows], pa.decimal128(38, 18)),
            **{c: pa.array([r[c] or 0 for r in rows], pa.int64()) for c in SUM_COLUMNS[1:]},
        }
        self._db.insert_arrow("source_sums", pa.table(table))

    def sums(self, months: Sequence[date] | None) -> list[dict[str, Any]]:
        """Every source's stored sums (of ``months`` only, if given): month, the keys they
        were computed with (``attributes``), and ``SUM_COLUMNS``."""
        # Values as literals: binding a parameter would import pandas (a report reads this).
        where = ""
        if months is not None:
            if not months:
                return []
            where = f"WHERE month IN ({', '.join(literal(m) for m in months)})"
        rows = self._db.all(f"SELECT * FROM source_sums {where}")
        for row in rows:
            row["attributes"] = json.loads(row["attributes"])
        return rows

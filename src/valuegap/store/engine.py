"""The engine adapter: the ledger's tables as Ibis tables, so that the cost rollups run where
the facts live (here DuckDB; the same rollup code runs on Apache Spark).

The ledger's own rollups run on ``unbound_tables``, and ``rows`` runs them as the SQL Ibis
compiles for DuckDB: Ibis's DuckDB backend (``ibis_tables``) would load pandas, and fetching
the result as Arrow pyarrow, more than half a second of a short command's time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from valuegap.store.database import Database
from valuegap.store.literals import literal

FACT_TABLES = ("focus_lines", "usage_events", "manual_costs", "initiatives")


def ibis_tables(db: Database) -> dict[str, Any]:
    """The fact tables as tables of Ibis's DuckDB backend."""
    import ibis

    backend = ibis.duckdb.from_connection(db.connection)
    return {name: backend.table(name) for name in FACT_TABLES}


def unbound_tables(db: Database) -> dict[str, Any]:
    """The fact tables as unbound Ibis tables, with the types they have in ``db``."""
    import ibis
    from ibis.backends.sql.compilers.duckdb import compiler

    from_string = compiler.type_mapper.from_string
    tables = {}
    for name in FACT_TABLES:
        described = db.connection.execute(f'DESCRIBE "{name}"').fetchall()
        schema = {row[0]: from_string(row[1], nullable=row[2] == "YES") for row in described}
        tables[name] = ibis.table(schema, name=name)
    return tables


def rows(db: Database, expr: Any) -> list[dict[str, Any]]:
    """The rows of the Ibis expression ``expr`` (on ``unbound_tables``), run in ``db``, by
    column name."""
    from ibis.backends.sql.compilers.duckdb import compiler

    sql = compiler.to_sqlglot(expr).sql(dialect=compiler.dialect)
    cursor = db.connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True, order=True)
class FileFound:
    """A partition of a source: a file, its size and its modification time (or etag)."""

    path: str
    size: int
    modified: str


class DuckDBEngine:
    """The embedded engine: a source's files read by DuckDB (a local folder or file), in the
    ledger's process; expressions compiled by Ibis for DuckDB."""

    name = "duckdb"

    def __init__(self, db: Database) -> None:
        self._db = db
        self._views = 0

    def files(self, location: str, fmt: str) -> list[FileFound]:
        import os
        from datetime import UTC, datetime

        from valuegap.errors import ConfigError

        if fmt == "table" or "://" in location:
            raise ConfigError(
                f"{location} is read by the spark engine only: set engine to spark (the "
                "duckdb engine reads local folders and files)"
            )
        found = []
        paths = (
            [location]
            if os.path.isfile(location)
            else [
                os.path.join(folder, name)
                for folder, _, names in os.walk(location)
                for name in names
                if name.endswith(".parquet")
            ]
        )
        for path in paths:
            stat = os.stat(path)
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
            found.append(FileFound(os.path.abspath(path), stat.st_size, modified.isoformat()))
        return sorted(found)

    def _source(self, files: Sequence[str]) -> str:
        listed = ", ".join(literal(f) for f in files)
        return (
            f"read_parquet([{listed}], filename = true, file_row_number = true, "
            "union_by_name = true, hive_partitioning = false)"
        )

    def columns(self, files: Sequence[str], fmt: str) -> list[str]:
        described = self._db.all(f"DESCRIBE SELECT * FROM {self._source(files[:1])}")
        return [r["column_name"] for r in described if r["column_name"] not in _ADDED]

    def read(self, files: Sequence[str], fmt: str, json_maps: Sequence[str] = ()) -> Any:
        types = {
            r["column_name"]: r["column_type"]
            for r in self._db.all(f"DESCRIBE SELECT * FROM {self._source(files)}")
        }
        replaced, bad = [], []
        for column in json_maps:
            name = _quoted(column)
            if types.get(column) == "VARCHAR":
                parsed = f"TRY_CAST(TRY_CAST({name} AS JSON) AS MAP(VARCHAR, VARCHAR))"
                replaced.append(f"{parsed} AS {name}")
                bad.append(
                    f"({name} IS NOT NULL AND {parsed} IS NULL) AS {_quoted('_bad_' + column)}"
                )
            else:
                bad.append(f"false AS {_quoted('_bad_' + column)}")
        exclude = f" EXCLUDE ({', '.join(_ADDED)})"
        replace = f" REPLACE ({', '.join(replaced)})" if replaced else ""
        self._views += 1
        name = f"_valuegap_source_{self._views}"
        self._db.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *{exclude}{replace}, "
            f"{', '.join([*bad, 'filename AS _file', 'file_row_number + 1 AS _row'])} "
            f"FROM {self._source(files)}"
        )
        return self._unbound(name)

    def _unbound(self, name: str) -> Any:
        import ibis
        from ibis.backends.sql.compilers.duckdb import compiler

        from_string = compiler.type_mapper.from_string
        described = self._db.all(f'DESCRIBE "{name}"')
        schema = {r["column_name"]: from_string(r["column_type"]) for r in described}
        return ibis.table(schema, name=name)

    def small_table(self, name: str, data: Any) -> Any:
        self._db.temp_table_of_arrow(name, data)
        return self._unbound(name)

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        from ibis.backends.sql.compilers.duckdb import compiler

        return self._db.all(compiler.to_sqlglot(expr).sql(dialect=compiler.dialect))


_ADDED = ("filename", "file_row_number")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""The engine adapter: the ledger's tables as Ibis tables, so that the cost rollups run where
the facts live (here DuckDB; the same rollup code runs on Apache Spark).

The ledger's own rollups run on ``unbound_tables``, and ``rows`` runs them as the SQL Ibis
compiles for DuckDB: Ibis's DuckDB backend (``ibis_tables``) would load pandas, and fetching
the result as Arrow pyarrow, more than half a second of a short command's time."""

from __future__ import annotations

from typing import Any

from valuegap.store.database import Database

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

"""The engine adapter: the ledger's tables as Ibis tables, so that the cost rollups run where
the facts live (here DuckDB; the same rollup code runs on Apache Spark)."""

from __future__ import annotations

from typing import Any

from valuegap.store.database import Database

FACT_TABLES = ("focus_lines", "usage_events", "manual_costs", "initiatives")


def ibis_tables(db: Database) -> dict[str, Any]:
    import ibis

    backend = ibis.duckdb.from_connection(db.connection)
    return {name: backend.table(name) for name in FACT_TABLES}

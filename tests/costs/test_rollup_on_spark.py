"""The same rollup code on DuckDB and on Apache Spark gives identical results: the engine sums
the facts (Ibis), and allocating the sums is the same Python on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.costs.allocation import report
from valuegap.store.engine import FACT_TABLES, ibis_tables

from .test_allocation import allocated  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow
DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def spark(spark_remote: str) -> Iterator[Any]:
    """The engine's session of the test session's Spark Connect server (stopped with it)."""
    from valuegap.costs.engines import spark_session
    from valuegap.settings import Settings

    yield spark_session(Settings(engine="spark", engine_remote=spark_remote))


def test_rollup_is_identical_on_duckdb_and_spark(allocated: Ledger, spark: Any) -> None:  # noqa: F811
    import ibis

    allocated.costs.ingest_rates(DATA / "rates.csv")
    allocated.costs.ingest_costs(DATA / "manual-costs.csv")  # EUR and USD entries, months spread
    duck = ibis_tables(allocated.session.db)
    for name, table in duck.items():
        spark.createDataFrame(table.to_pyarrow()).createOrReplaceTempView(name)
    backend = ibis.pyspark.connect(spark)
    on_spark = {name: backend.table(name) for name in FACT_TABLES}
    for by in (["initiative", "business_unit", "category", "month"],
               ["provider", "service", "model", "tag:application", "basis"]):  # fmt: skip
        expected, found = (report(allocated.costs.allocated_parts(by, tables), by)
                           for tables in (duck, on_spark))  # fmt: skip
        assert len(expected) > 3
        assert _sorted(found, by) == _sorted(expected, by)


def _sorted(rows: list[dict[str, Any]], by: list[str]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in by))

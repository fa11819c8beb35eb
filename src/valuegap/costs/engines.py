"""Where a rollup over external sources runs: the engine (the setting ``engine``).

An engine lists a source's files (its partitions, with their size and modification time),
reads some of them as one Ibis table (each row with its ``_file`` and ``_row``, to name a bad
value), holds small tables that a rollup joins (prices: Spark broadcasts them), and runs Ibis
expressions, returning their rows. ``duckdb`` is the embedded engine of the ledger
(``store.engine``); ``spark`` is Apache Spark, through Spark Connect (``engine_remote``) or a
session in this process (``engine_master``). The same rollup code runs on both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from valuegap.errors import ConfigError
from valuegap.settings import Settings
from valuegap.store.database import Database
from valuegap.store.engine import FileFound


class Engine(Protocol):
    name: str

    def files(self, location: str, fmt: str) -> list[FileFound]: ...

    def read(self, files: Sequence[str], fmt: str, json_maps: Sequence[str] = ()) -> Any: ...

    def columns(self, files: Sequence[str], fmt: str) -> list[str]: ...

    def rows(self, expr: Any) -> list[dict[str, Any]]: ...

    def small_table(self, name: str, data: Any) -> Any: ...


def engine_for(settings: Settings, db: Database) -> Engine:
    """The engine the settings name."""
    if settings.engine == "spark":
        return SparkEngine(spark_session(settings))
    from valuegap.store.engine import DuckDBEngine

    return DuckDBEngine(db)


def plain_path(path: str) -> str:
    """A local file as a path (``file:/a%20b`` -> ``/a b``); any other URL as it is."""
    if path.startswith("file:"):
        return unquote(urlparse(path).path)
    return path


_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def spark_session(settings: Settings) -> Any:
    """A Spark session for the settings: Spark Connect to ``engine_remote``, else a session in
    this process on ``engine_master`` (``local[*]`` when neither is set); one per address."""
    address = settings.engine_remote or settings.engine_master or "local[*]"
    with _sessions_lock:
        if address not in _sessions:
            _sessions[address] = _new_session(settings.engine_remote, address)
        return _sessions[address]


def close_sessions() -> None:
    """Stop the Spark sessions this process opened (before their Connect server goes away:
    a session left open retries it for minutes at exit)."""
    with _sessions_lock:
        for session in _sessions.values():
            session.stop()
        _sessions.clear()


def _new_session(remote: str | None, master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("engine spark needs PySpark: pip install 'valuegap[spark]'") from None
    if remote:
        try:
            session = SparkSession.builder.remote(remote).getOrCreate()
        except Exception as exc:  # grpc's errors have no common type to name
            raise ConfigError(
                f"engine_remote {remote} cannot be reached ({type(exc).__name__}): check that "
                "a Spark Connect server listens there"
            ) from exc
    else:
        os.environ.setdefault("PYSPARK_PYTHON", "python")
        session = (
            SparkSession.builder.master(master)
            .appName("valuegap")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate()
        )
    # Time is UTC; and a product of decimals keeps its 18 places (Spark would round it to 6
    # where the result's precision passes 38), as DuckDB's does.
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", "false")
    return session


class SparkEngine:
    """Apache Spark: files listed and read by the cluster (a local folder, ``s3a://``,
    ``abfss://``, ``gs://``, or a catalogue table), expressions compiled by Ibis."""

    name = "spark"

    def __init__(self, session: Any) -> None:
        import ibis

        self._session = session
        self._backend = ibis.pyspark.connect(session)
        self._views = 0

    def files(self, location: str, fmt: str) -> list[FileFound]:
        if fmt == "table":
            paths = self._session.table(location).inputFiles()
            if not paths:
                return []
            listed = self._session.read.format("binaryFile").load(paths)
        else:
            listed = (
                self._session.read.format("binaryFile")
                .option("recursiveFileLookup", "true")
                .option("pathGlobFilter", "*.parquet")
                .load(_spark_path(location))
            )
        rows = listed.select("path", "length", "modificationTime").collect()
        return sorted(
            FileFound(plain_path(r["path"]), int(r["length"]), r["modificationTime"].isoformat())
            for r in rows
        )

    def _frame(self, files: Sequence[str]) -> Any:
        return self._session.read.parquet(*(_spark_path(f) for f in files))

    def columns(self, files: Sequence[str], fmt: str) -> list[str]:
        return list(self._frame(files[:1]).columns)

    def read(self, files: Sequence[str], fmt: str, json_maps: Sequence[str] = ()) -> Any:
        from pyspark.sql import functions as F

        frame = self._frame(files)
        for column in json_maps:
            if dict(frame.dtypes)[column] == "string":
                parsed = F.from_json(F.col(column), "map<string,string>")
                frame = frame.withColumn(
                    f"_bad_{column}", F.col(column).isNotNull() & parsed.isNull()
                )
                frame = frame.withColumn(column, parsed)
            else:
                frame = frame.withColumn(f"_bad_{column}", F.lit(False))
        frame = frame.select(
            "*",
            F.col("_metadata.file_path").alias("_file"),
            (F.col("_metadata.row_index") + 1).alias("_row"),
        )
        return self._view(frame)

    def _view(self, frame: Any) -> Any:
        self._views += 1
        name = f"_valuegap_source_{self._views}"
        frame.createOrReplaceTempView(name)
        return self._backend.table(name)

    def small_table(self, name: str, data: Any) -> Any:
        # Spark broadcasts a table this small to every executor for the join.
        return self._view(self._session.createDataFrame(data))

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
        return rows


def _spark_path(path: str) -> str:
    """A local path as Spark reads it (``file://``); a URL as it is."""
    return f"file://{path}" if path.startswith("/") else path

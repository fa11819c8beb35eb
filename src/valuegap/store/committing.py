"""One DuckDB transaction on a connection, all or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def committed(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A transaction on ``connection``: committed when the block ends, rolled back if it
    raises."""
    connection.begin()
    try:
        yield
        connection.commit()
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed commit has rolled back already
            connection.rollback()
        raise

"""The store: the only package that talks to DuckDB."""

from valuegap.store.database import Database

__all__ = ["Database"]

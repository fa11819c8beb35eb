"""valuegap: an AI value ledger. ``Ledger`` is the whole Python API; its parts
(``ledger.portfolio``, ``ledger.costs``, ``ledger.outcomes``, ``ledger.governance``,
``ledger.agents``) hold the methods.

>>> from valuegap import Ledger
>>> with Ledger.open("valuegap.duckdb", actor="alice") as ledger:
...     ledger.portfolio.initiatives()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from valuegap.errors import (
    ConfigError,
    IngestError,
    LedgerBusy,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    Problem,
    ValidationError,
    ValuegapError,
)

if TYPE_CHECKING:
    from valuegap.ledger import Ledger

__version__ = "0.1.0.dev0"

__all__ = [
    "ConfigError",
    "IngestError",
    "Ledger",
    "LedgerBusy",
    "NotFound",
    "PermissionDenied",
    "PolicyViolation",
    "Problem",
    "ValidationError",
    "ValuegapError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Ledger pulls in DuckDB; import it only when asked for, so `valuegap --help` stays fast.
    if name == "Ledger":
        from valuegap.ledger import Ledger

        return Ledger
    raise AttributeError(f"module 'valuegap' has no attribute {name!r}")

"""What an ingest of a file answers: its rows read and added, and for a FOCUS file the
true-ups it made (costs/trueup.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.decimals import plain
from valuegap.records import record


@record
class TrueUp:
    provider: str  # the provider key (as in reconciliation)
    month: date
    estimated: Mapping[str, Decimal]  # currency -> the usage's own cost, counted until now
    invoiced: Mapping[str, Decimal]  # currency -> the invoice's token lines, counted from now

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "month": f"{self.month:%Y-%m}",
            "estimated": {c: str(plain(a)) for c, a in self.estimated.items()},
            "invoiced": {c: str(plain(a)) for c, a in self.invoiced.items()},
        }


@record
class IngestResult:
    kind: str
    file: str
    rows_read: int
    rows_added: int
    true_ups: tuple[TrueUp, ...] = ()

    @property
    def rows_skipped(self) -> int:
        """Rows already in the ledger (re-ingested or overlapping)."""
        return self.rows_read - self.rows_added

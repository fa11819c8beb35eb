"""The monthly cost aggregates' table: allocated cost summed by month and by every report
dimension but tags (``costs.aggregates`` computes them; reports read them here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from valuegap.store.database import META_TABLES, Database
from valuegap.store.literals import literal

# The aggregates' dimensions, in the table's column order (also what a cost report can be
# summed by, besides tag:<key>); their sums follow.
DIMENSIONS = (
    "month",
    "initiative",
    "business_unit",
    "category",
    "provider",
    "service",
    "service_category",
    "model",
    "sub_account",
    "source",
    "basis",
)
SUMS = ("cost", "estimated", "usage_cost")
# ledger_meta: the allocation settings the aggregates were computed with (absent: never built).
BUILT_FOR = "cost_aggregates_settings"
STALE = "stale"


class AggregateStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def built_for(self) -> str | None:
        """The allocation settings the aggregates hold, as ``costs.aggregates.fingerprint``
        gives them; None when they were never built. Read once between writes: every cost
        report asks."""
        return self._db.cached(BUILT_FOR, lambda: self._db.get_meta(BUILT_FOR), META_TABLES)

    def replace(
        self, months: Sequence[date] | None, rows: Iterable[Mapping[str, Any]], built_for: str
    ) -> int:
        """Replace the aggregates of ``months`` (all, if None) by ``rows``; how many rows."""
        import pyarrow as pa

        if months is None:
            self._db.execute("DELETE FROM cost_aggregates")
        elif months:
            self._db.execute(
                "DELETE FROM cost_aggregates WHERE month IN (SELECT UNNEST(?))", [list(months)]
            )
        rows = list(rows)
        if rows:
            text, money = pa.string(), pa.decimal128(38, 10)
            types = {name: text for name in DIMENSIONS} | {name: money for name in SUMS}
            types["month"] = pa.date32()
            table = pa.table(
                {name: pa.array([r[name] for r in rows], type) for name, type in types.items()}
            )
            self._db.insert_arrow("cost_aggregates", table)
        self._db.set_meta(BUILT_FOR, built_for)
        return len(rows)

    def mark_stale(self) -> None:
        """Say that the aggregates are to be computed again (every month)."""
        self._db.set_meta(BUILT_FOR, STALE)

    def summed(
        self,
        by: Sequence[str],
        start: date | None = None,
        end: date | None = None,
        within: tuple[Iterable[str], Iterable[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The aggregates of months [start, end) summed by ``by`` (names from ``DIMENSIONS``),
        sorted by ``by`` as ``allocation.report`` sorts (nulls last); ``within``: only the
        cost booked to these business units or to these initiatives."""
        unknown = [k for k in by if k not in DIMENSIONS]
        if unknown:
            raise ValueError(f"not an aggregate dimension: {', '.join(unknown)}")
        keys = "".join(f'"{k}", ' for k in by)
        sums = ", ".join(f'sum("{s}") AS "{s}"' for s in SUMS)
        conditions = [f"month >= {literal(start)}"] if start is not None else []
        conditions += [f"month < {literal(end)}"] if end is not None else []
        if within is not None:
            units, initiatives = (", ".join(map(literal, names)) or "NULL" for names in within)
            conditions.append(f"(business_unit IN ({units}) OR initiative IN ({initiatives}))")
        where = "WHERE " + " AND ".join(conditions) if conditions else ""
        order = "ORDER BY " + ", ".join(f'"{k}" NULLS LAST' for k in by) if by else ""
        return self._db.all(
            f"SELECT {keys}{sums} FROM cost_aggregates {where} GROUP BY ALL {order}"
        )

    def months(self) -> list[date]:
        return [r["month"] for r in self._db.all("SELECT DISTINCT month FROM cost_aggregates")]

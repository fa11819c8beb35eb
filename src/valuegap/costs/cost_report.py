"""A cost report's rows: cost summed by the dimensions a report asks for (``by``), each dollar
once, in the reporting currency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from datetime import date
from decimal import Decimal
from typing import Any

from valuegap.decimals import plain
from valuegap.records import record
from valuegap.results import Money
from valuegap.store.aggregates import DIMENSIONS

TAG = "tag:"  # a dimension tag:<key> is the tag <key>


@record(kw_only=True)
class CostLine:
    """One row of a cost report. A dimension the report is not summed by is None (as is one it
    is summed by, where the cost has no value of it: a manual cost's provider); ``tags`` holds
    the tags it is summed by (``tag:<key>``), by key."""

    month: str | None = None  # YYYY-MM
    initiative: str | None = None
    business_unit: str | None = None
    category: str | None = None
    provider: str | None = None
    service: str | None = None
    service_category: str | None = None
    model: str | None = None
    sub_account: str | None = None
    source: str | None = None
    basis: str | None = None  # invoiced | estimated | manual
    tags: dict[str, str | None] = field(default_factory=dict)
    cost: Money  # each dollar once
    estimated: Money  # the part of cost that is usage no invoice covers yet
    usage_cost: Money  # the usage events' own cost, beside
    currency: str

    def dimension(self, key: str) -> str | None:
        """The line's value of ``key``, a dimension of ``DIMENSIONS`` or ``tag:<key>``."""
        if key.startswith(TAG):
            return self.tags.get(key.removeprefix(TAG))
        if key not in DIMENSIONS:
            raise KeyError(key)
        value: str | None = getattr(self, key)
        return value

    def summed_by(self, by: Sequence[str]) -> dict[str, str | Decimal | None]:
        """The line as a report shows it: only the dimensions it is summed by (``by``), then
        its amounts and currency."""
        return {
            **{key: self.dimension(key) for key in by},
            "cost": self.cost,
            "estimated": self.estimated,
            "usage_cost": self.usage_cost,
            "currency": self.currency,
        }


def cost_lines(
    rows: Iterable[Mapping[str, Any]], by: Sequence[str], currency: str
) -> list[CostLine]:
    """Summed rows (each dimension of ``by`` and the sums, as ``allocation.report`` and the
    aggregates give them) as cost lines in ``currency``."""
    lines = []
    for row in rows:
        dimensions = {k: _text(row[k]) for k in by if not k.startswith(TAG)}
        tags = {k.removeprefix(TAG): row[k] for k in by if k.startswith(TAG)}
        lines.append(
            CostLine(
                **dimensions,
                tags=tags,
                cost=plain(row["cost"]),
                estimated=plain(row["estimated"]),
                usage_cost=plain(row["usage_cost"]),
                currency=currency,
            )
        )
    return lines


def cost_by(lines: Iterable[CostLine], dimension: str) -> list[tuple[str, Decimal]]:
    """The lines' cost summed by one ``dimension`` (``(none)`` where a line has no value),
    largest first."""
    summed: dict[str, Decimal] = {}
    for line in lines:
        name = line.dimension(dimension) or "(none)"
        summed[name] = summed.get(name, Decimal(0)) + line.cost
    return sorted(summed.items(), key=lambda item: (-item[1], item[0]))


def _text(value: str | date | None) -> str | None:
    """A dimension's value: a month as YYYY-MM."""
    return f"{value:%Y-%m}" if isinstance(value, date) else value

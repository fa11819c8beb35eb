"""Report windows: half-open [start, end) ranges of whole months, named as people name them;
and ``Period``, a window as a report shows it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from valuegap.errors import Problem, ValidationError
from valuegap.model.manual import spread
from valuegap.months import EARLIEST, LATEST, add_months, check_days, check_window, months_apart
from valuegap.records import record


@record
class Window:
    start: date | None = None  # None: from the beginning
    end: date | None = None  # None: to the end; exclusive

    def holds(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    def overlaps(self, start: date, end: date) -> bool:
        """Whether the period [start, end) has a day in the window."""
        return (self.start is None or end > self.start) and (self.end is None or start < self.end)

    def part_of(self, amount: Decimal, start: date, end: date) -> Decimal:
        """The part of ``amount`` over [start, end) that falls in the window, spread over its
        months as manual costs are (equally over whole months, else by days)."""
        parts = spread(amount, start, end)
        return sum((part for month, part in parts if self.holds(month)), Decimal(0))

    def previous(self) -> Window | None:
        """The window of the same length just before this one (none for an open window)."""
        if self.start is None or self.end is None:
            return None
        length = months_apart(self.start, self.end)
        if length > (self.start.year - 1) * 12 + self.start.month - 1:
            return None  # it would begin before the calendar does (year 1)
        return Window(add_months(self.start, -length), self.start)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


# A pydantic model, because ``from`` cannot name a dataclass field. Built when first made
# (``defer_build``), not on import: most commands import it and make none.
class Period(BaseModel):
    """The window a report covers, ``{"from": ..., "to": ...}`` in JSON (``to`` exclusive;
    null: from the beginning, or to now)."""

    model_config = ConfigDict(
        frozen=True, serialize_by_alias=True, validate_by_name=True, defer_build=True
    )

    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @classmethod
    def of(cls, window: Window) -> Period:
        # A window's bounds are dates already: nothing to validate, and no validator to build
        # (5 ms, for the one period of a report).
        return cls.model_construct(start=window.start, end=window.end)


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])))?$")


def parse_period(text: str) -> Window:
    """``2026``, ``2026-H1``, ``2026-Q1`` or ``2026-03`` as a window."""
    found = _PERIOD.match(text.strip().upper())
    if not found or (found.group(2) and not 1 <= int(found.group(2)) <= 12):
        raise ValidationError(
            "The period cannot be read.",
            [
                Problem(
                    "period",
                    "must be a year, half, quarter or month: 2026, 2026-H1, 2026-Q1 or 2026-03",
                    text,
                )
            ],
        )
    year, month, quarter, half = found.groups()
    if not EARLIEST.year <= int(year) < LATEST.year:
        said = f"must be in a year from {EARLIEST.year} to {LATEST.year - 1}"
        raise ValidationError("The period is out of range.", [Problem("period", said, text)])
    first = int(month or 0) or (3 * int(quarter) - 2 if quarter else 6 * int(half or 1) - 5)
    length = 1 if month else 3 if quarter else 6 if half else 12
    start = date(int(year), first, 1)
    return Window(start, add_months(start, length))


def window(period: str | None, start: date | None, end: date | None) -> Window:
    """The window a report asks for: a named period, or months from ``start`` to ``end``."""
    if period and (start or end):
        raise ValidationError(
            "The period is given twice.",
            [Problem("period", "give a period, or `from`/`to`, not both", period)],
        )
    check_days("The months are out of range.", **{"from": start, "to": end})
    check_window(start, end)
    return parse_period(period) if period else Window(start, end)

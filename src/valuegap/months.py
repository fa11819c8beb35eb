"""Month arithmetic, in one place: calendar dates (UTC days), periods half-open [start, end).

A month is named by its first day. Moving a day by months keeps its day of the month, or takes
the month's last day where it has fewer days (31 August + 6 months is 28 or 29 February).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime

from valuegap.errors import Problem, ValidationError

# The days a report may be asked about: far enough either way for any ledger, and far from
# the calendar's ends (year 1 and 9999), where a window's month arithmetic would overflow.
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 1, 1)


def day_problems(**days: date | None) -> list[Problem]:
    """A problem for each of ``days`` (by field name) outside [EARLIEST, LATEST]; None is not
    asked."""
    return [
        Problem(name, f"must be from {EARLIEST} to {LATEST}", day)
        for name, day in days.items()
        if day is not None and not EARLIEST <= day <= LATEST
    ]


def check_days(refused: str, **days: date | None) -> None:
    """Refuse, with ``refused`` as the summary, any of ``days`` outside [EARLIEST, LATEST]."""
    problems = day_problems(**days)
    if problems:
        raise ValidationError(refused, problems)


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier, if negative), or that month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s: the end of its month, half-open."""
    return add_months(month_start(day), 1)


def quarter_start(day: date) -> date:
    """The first day of ``day``'s calendar quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def months_apart(start: date, end: date) -> int:
    """Calendar months from ``start``'s month to ``end``'s, whatever their days (negative if
    ``end`` is in an earlier month)."""
    return (end.year - start.year) * 12 + end.month - start.month


def months_between(start: date, end: date) -> int:
    """Complete months from ``start`` to ``end``: 15 Mar to 14 Sep is 5, to 15 Sep is 6; a
    month's last day completes a month that began on a later day (31 Jan to 28 Feb is 1);
    never below 0."""
    months = months_apart(start, end)
    last_day = calendar.monthrange(end.year, end.month)[1]
    if end.day < start.day and end.day != last_day:
        months -= 1
    return max(months, 0)


def whole_months(start: date, end: date) -> int | None:
    """How many whole months [start, end) is, or None when it does not run first-to-first."""
    if start.day != 1 or end.day != 1:
        return None
    return months_apart(start, end)


def month_starts(start: date, end: date) -> list[date]:
    """The first days of the months that [start, end) touches (none if it is empty)."""
    months, current = [], month_start(start)
    while current < end:
        months.append(current)
        current = next_month(current)
    return months


def check_window(start: date | None, end: date | None) -> None:
    """Refuse the months from ``start`` up to ``end`` (the month after the last) if there are
    none, naming ``to``; either may be open (None)."""
    if start is None or end is None or end > start:
        return
    alone = f"for {start:%Y-%m} alone it is {next_month(start):%Y-%m}"
    problem = Problem("to", f"must come after `from`; {alone}", f"{end:%Y-%m}")
    raise ValidationError(
        f"From {start:%Y-%m} to {end:%Y-%m} holds no month: `to` is the month after the last.",
        [problem],
    )


def month_ranges(months: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """``months`` (each a month's first day) as half-open ranges of time [start, end), one per
    run of consecutive months."""
    ranges: list[tuple[datetime, datetime]] = []
    for month in sorted(set(months)):
        start = datetime(month.year, month.month, 1)
        end = datetime.combine(next_month(start.date()), datetime.min.time())
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges

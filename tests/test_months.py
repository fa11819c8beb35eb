"""Month arithmetic, worked by hand: month ends, leap years, year boundaries, half-open
periods."""

from __future__ import annotations

from datetime import date

import pytest

from valuegap.errors import ValidationError
from valuegap.months import (
    add_months,
    check_window,
    month_start,
    month_starts,
    months_apart,
    months_between,
    next_month,
    quarter_start,
    whole_months,
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 15), 6, date(2025, 9, 15)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # February 2026 has 28 days
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # 2024 is a leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 2025 is not
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # across the year
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2026, 1, 1), -1, date(2025, 12, 1)),  # backwards across the year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2025, 5, 20), 0, date(2025, 5, 20)),
        (date(2025, 1, 1), 25, date(2027, 2, 1)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_month_end(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_a_month_is_half_open_from_its_first_day_to_the_next() -> None:
    assert month_start(date(2024, 2, 29)) == date(2024, 2, 1)
    assert next_month(date(2024, 2, 29)) == date(2024, 3, 1)
    assert next_month(date(2025, 12, 31)) == date(2026, 1, 1)
    assert next_month(date(2025, 12, 1)) == date(2026, 1, 1)


def test_quarters_begin_in_january_april_july_october() -> None:
    assert quarter_start(date(2026, 3, 31)) == date(2026, 1, 1)
    assert quarter_start(date(2026, 4, 1)) == date(2026, 4, 1)
    assert quarter_start(date(2025, 12, 31)) == date(2025, 10, 1)


def test_months_apart_counts_calendar_months_whatever_the_days() -> None:
    assert months_apart(date(2025, 12, 31), date(2026, 1, 1)) == 1
    assert months_apart(date(2025, 1, 1), date(2025, 1, 31)) == 0
    assert months_apart(date(2026, 3, 1), date(2025, 3, 1)) == -12


def test_complete_months_between_two_days() -> None:
    assert months_between(date(2025, 3, 15), date(2025, 9, 14)) == 5
    assert months_between(date(2025, 3, 15), date(2025, 9, 15)) == 6
    assert months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1  # February's last day
    assert months_between(date(2024, 1, 31), date(2024, 2, 28)) == 0  # 29 days in 2024
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert months_between(date(2025, 11, 15), date(2026, 2, 15)) == 3
    assert months_between(date(2025, 5, 1), date(2025, 4, 1)) == 0  # never negative


def test_whole_months_run_first_to_first() -> None:
    assert whole_months(date(2025, 11, 1), date(2026, 2, 1)) == 3
    assert whole_months(date(2025, 1, 1), date(2025, 1, 31)) is None
    assert whole_months(date(2025, 1, 15), date(2025, 2, 1)) is None


def test_the_months_a_half_open_period_touches() -> None:
    assert month_starts(date(2025, 1, 15), date(2025, 3, 1)) == [
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]  # 1 March is the end, not a day of the period
    assert month_starts(date(2025, 12, 31), date(2026, 1, 2)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    assert month_starts(date(2025, 3, 1), date(2025, 3, 1)) == []


def test_a_window_that_holds_no_month_is_refused_naming_to() -> None:
    check_window(date(2025, 3, 1), date(2025, 4, 1))
    check_window(None, date(2025, 4, 1))
    check_window(date(2025, 3, 1), None)
    for end in (date(2025, 3, 1), date(2025, 1, 1)):
        with pytest.raises(ValidationError) as refused:
            check_window(date(2025, 3, 1), end)
        [problem] = refused.value.problems
        assert problem.where == "to" and "for 2025-03 alone it is 2025-04" in problem.message


def test_months_become_ranges_of_time_one_per_run_of_consecutive_months() -> None:
    from datetime import datetime

    from valuegap.months import month_ranges

    months = [date(2025, 3, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 1, 1)]
    assert month_ranges(months) == [
        (datetime(2024, 12, 1), datetime(2025, 2, 1)),  # December and January: one run
        (datetime(2025, 3, 1), datetime(2025, 4, 1)),
    ]
    assert month_ranges([]) == []

"""Values in errors are cut to a readable length, in one place, for every error."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from valuegap.errors import IngestError, Problem, ValidationError, shown


def test_a_long_value_is_cut_to_80_characters_with_its_length_said() -> None:
    value = "x" * 10_000_000
    problem = IngestError.at("costs.csv", 1, "description", value, "is too long")
    # the repr's first 80 characters: the opening quote and 79 x
    assert str(problem) == (
        "costs.csv, row 1, column 'description': is too long (found '"
        + "x" * 79
        + "... (10,000,000 characters in all))"
    )


def test_a_short_value_is_shown_whole() -> None:
    assert str(Problem("rates.csv, row 1, column 'rate'", "is not a number", "1,5")) == (
        "rates.csv, row 1, column 'rate': is not a number (found '1,5')"
    )


def test_every_problem_of_a_validation_error_is_cut() -> None:
    problems = [Problem(f"rules[{n}].expr", "is not valid", "y" * 500) for n in range(3)]
    message = str(ValidationError("rules.yaml was refused.", problems))
    assert len(message) < 3 * 200
    assert message.count("(500 characters in all)") == 3


def test_a_number_or_a_day_is_shown_as_written() -> None:
    assert str(Problem("input_per_mtok", "must be 0 or more", Decimal("-2.50"))) == (
        "input_per_mtok: must be 0 or more (found -2.50)"
    )
    assert shown(date(2025, 3, 1)) == "2025-03-01"
    assert shown(datetime(2025, 3, 1, 9, 30)) == "2025-03-01T09:30:00"
    assert shown("2025-03") == "'2025-03'"  # text keeps its quotes

"""Parsers for option values that Typer has no type for."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import typer

from valuegap.errors import ValidationError

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a finite number")
    return value


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def month(text: str) -> date:
    """YYYY-MM, as the month's first day (a day is refused: a report counts whole months)."""
    if not _MONTH.fullmatch(text):
        raise typer.BadParameter(f"{text!r} is not a month: give YYYY-MM, such as 2025-03")
    return date(int(text[:4]), int(text[5:]), 1)


def period(text: str) -> str:
    """A year, half, quarter or month, as a report reads it (``outcomes.periods``)."""
    from valuegap.outcomes.periods import parse_period

    try:
        parse_period(text)
    except ValidationError:
        raise typer.BadParameter(
            f"{text!r} is not a period: give a year, half, quarter or month: 2026, 2026-H1, "
            "2026-Q1 or 2026-03"
        ) from None
    return text

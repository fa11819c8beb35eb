"""Parsers for option values that Typer has no type for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import typer


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
    """YYYY-MM (the month's first day) or YYYY-MM-DD."""
    try:
        return date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a month (YYYY-MM) or a date") from None

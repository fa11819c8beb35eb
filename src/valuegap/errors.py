"""The errors valuegap raises.

Every error a user can cause is a ``ValuegapError``; the CLI prints its message and exits 1,
and (later) the API turns it into one JSON error shape. Anything else is a bug.

    ValuegapError
    ├── ConfigError          settings, the ledger file, its schema version
    │   └── LedgerBusy       another process holds the ledger file; names that process
    ├── ValidationError      input that breaks the rules; carries every ``Problem`` found
    │   └── IngestError      a bad row in an ingested file: file, row, column, value
    ├── PolicyViolation      a rule refused the change; carries the rule ids
    ├── NotFound             no such initiative, metric, user, ...
    └── PermissionDenied     the acting user's role does not allow it
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from valuegap.records import record


class ValuegapError(Exception):
    """Root of every error a user can cause. The message says what is wrong and what to do."""


class ConfigError(ValuegapError):
    """A setting, the ledger file, or its schema version is not usable."""


class LedgerBusy(ConfigError):
    """Another process held the ledger file for longer than ``lock_timeout``: the message names
    that process and what to do."""


# A value found in the input, as a problem shows it.
Found = str | bytes | int | float | Decimal | date | None


@record
class Problem:
    """One thing wrong with an input: where it is, the value found, and what is allowed."""

    where: str
    message: str
    value: Found = None
    # Where in a file, when the input was one (IngestError.at): for the API's error details.
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        found = "" if self.value is None else f" (found {shown(self.value)})"
        return f"{self.where}: {self.message}{found}"


SHOWN_CHARACTERS = 80


def shown(value: object) -> str:
    """``value`` as an error shows it: its repr (a number or a day as written: ``-2.50``,
    ``2025-03-01``), cut to ``SHOWN_CHARACTERS`` with its full length said, so that no message
    echoes a whole field or file."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    length = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[:SHOWN_CHARACTERS]}... ({length:,} characters in all)"


class ValidationError(ValuegapError):
    """Input refused whole; ``problems`` lists every problem found, not just the first."""

    def __init__(self, summary: str, problems: list[Problem]) -> None:
        self.summary = summary
        self.problems = problems
        lines = [summary, *(f"  - {p}" for p in problems)]
        super().__init__("\n".join(lines))


class IngestError(ValidationError):
    """A file refused whole because of bad rows; nothing from it was stored. Each problem names
    the file, the row (1 is the first row after the header), the column and the value."""

    def __init__(self, file: str, problems: list[Problem], *, files: int = 1) -> None:
        self.file = file
        summary = (
            f"{file} was not ingested; nothing from it was stored."
            if files == 1
            else f"{file} was refused, so none of the {files} files was ingested; nothing "
            "from them was stored."
        )
        super().__init__(summary, problems)

    @staticmethod
    def at(file: str, row: int | None, column: str, value: Found, message: str) -> Problem:
        where = f"{file}, row {row}, column {column!r}" if row else f"{file}, column {column!r}"
        return Problem(where, message, value, file=file, row=row, column=column)


class PolicyViolation(ValuegapError):
    """A rule refused the change. ``rule_ids`` names the rules that decided."""

    def __init__(self, message: str, rule_ids: list[str]) -> None:
        self.rule_ids = rule_ids
        super().__init__(message)


class Stale(ValuegapError):
    """A change made against a version of something that is no longer its current version:
    another change came in between (the caller reads it again, then decides)."""


class NotFound(ValuegapError):
    """The named thing does not exist in the ledger."""


class PermissionDenied(ValuegapError):
    """The acting user's role does not allow the action."""

"""Counting in words, for messages: ``counted(1, "row")`` is "1 row", ``counted(1204, "row")``
"1,204 rows"."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` things in words, with thousands separators; ``plural`` where adding an "s"
    does not make it (``counted(2, "entry", "entries")``)."""
    word = singular if number == 1 else plural or singular + "s"
    return f"{number:,} {word}"

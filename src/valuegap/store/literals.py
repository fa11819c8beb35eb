"""Values written into a read's SQL as literals, where binding them as parameters costs most of
a short command's time.

DuckDB's Python client checks every parameter but None against pandas' missing values, and so
imports pandas (with numpy and pyarrow) on the first one a process binds: about 0.4 s, more
than ``valuegap report costs`` needs for everything else. The reads that every command makes
(the ledger's settings, the acting user) and those of the reports write their values here
instead; writes keep their parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime


def literal(value: str | date | None) -> str:
    """``value`` as a SQL literal of the type a bound parameter would have."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        raise TypeError("literal() writes dates; bind a timestamp as a parameter")
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    # A quote is doubled, and nothing else is special in a SQL string. The parser ends a
    # statement at a NUL character, so one is written as chr(0).
    quoted = ["'" + part.replace("'", "''") + "'" for part in value.split("\0")]
    return quoted[0] if len(quoted) == 1 else "(" + " || chr(0) || ".join(quoted) + ")"


def text_list(values: Iterable[str]) -> str:
    """``values`` as a SQL list of text (an empty one included)."""
    return "[" + ", ".join(literal(v) for v in values) + "]::VARCHAR[]"

"""Every table of a ledger, row by row: to show that a refused input changed nothing."""

from __future__ import annotations

from valuegap import Ledger


def contents(ledger: Ledger) -> dict[str, list[str]]:
    """Each table's rows, as text, in a fixed order."""
    tables = ledger.session.db.all(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    found = {}
    for table in (str(t["table_name"]) for t in tables):
        rows = ledger.session.db.all(f'SELECT * FROM "{table}"')
        found[table] = sorted(repr(sorted(row.items())) for row in rows)
    return found

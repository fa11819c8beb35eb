"""Loading the org chart: each unit once, its parent a unit of the same file, no cycle. A later
org file replaces the stored chart whole (it is the current org chart)."""

from __future__ import annotations

from valuegap.errors import IngestError, Problem
from valuegap.records import record
from valuegap.store.adoption import insert_rows, required_check
from valuegap.store.database import Database
from valuegap.store.staging import STAGE, refuse_bad_rows

ORG_COLUMNS = ("unit", "parent")


@record
class OrgRow:
    row: int
    unit: str
    parent: str | None


def read_org(db: Database, file: str) -> list[OrgRow]:
    """The staged org file's rows, checked: each unit once, a parent that is a unit of the
    file, no cycle, and every unit that holds adoption data (a later org file replaces the
    hierarchy whole)."""
    refuse_bad_rows(db, STAGE, file, [required_check("unit")])
    rows = [
        OrgRow(int(r["_row"]), r["unit"].strip(), (r["parent"] or "").strip() or None)
        for r in db.all(f"SELECT _row, unit, parent FROM {STAGE} ORDER BY _row")
    ]
    problems: list[Problem] = []
    parents: dict[str, str | None] = {}
    for r in rows:
        if r.unit in parents:
            twice = "is given twice: give each unit once, with its parent"
            problems.append(IngestError.at(file, r.row, "unit", r.unit, twice))
        parents.setdefault(r.unit, r.parent)
    for r in rows:
        if r.parent is not None and r.parent not in parents:
            message = "is not a unit of this file: the org file is the whole org chart"
            problems.append(IngestError.at(file, r.row, "parent", r.parent, message))
    if not problems:
        problems = _cycles(file, rows, parents)
    message = "holds adoption data, so it must stay in the org chart (under any parent)"
    for unit in sorted(units_holding_data(db) - set(parents)):
        problems.append(IngestError.at(file, None, "unit", unit, message))
    if problems:
        raise IngestError(file, sorted(problems, key=lambda p: p.row or 0))
    return rows


def _cycles(file: str, rows: list[OrgRow], parents: dict[str, str | None]) -> list[Problem]:
    found: list[Problem] = []
    named: set[str] = set()
    for r in rows:
        path, unit = [r.unit], r.parent
        while unit is not None and unit not in path:
            path.append(unit)
            unit = parents[unit]
        if unit == r.unit and r.unit not in named:
            named.update(path)
            chain = " -> ".join([*path, r.unit])
            found.append(
                IngestError.at(
                    file,
                    r.row,
                    "parent",
                    r.parent,
                    f"makes a cycle ({chain}): a unit cannot be its own ancestor",
                )
            )
    return found


def units_holding_data(db: Database) -> set[str]:
    rows = db.all(
        """SELECT unit FROM adoption_records UNION SELECT unit FROM process_volume
        UNION SELECT unit FROM survey_aggregates UNION SELECT unit FROM adoption_weekly"""
    )
    return {str(r["unit"]) for r in rows}


def replace_org(db: Database, rows: list[OrgRow], ingest_id: int) -> tuple[int, bool]:
    """Make ``rows`` the hierarchy: (units new or with a new parent, whether anything changed)."""
    stored = {(r["unit"], r["parent"]) for r in db.all("SELECT unit, parent FROM org_units")}
    given = {(r.unit, r.parent) for r in rows}
    if given == stored:
        return 0, False
    db.execute("DELETE FROM org_units")
    insert_rows(db, "org_units", ORG_COLUMNS, [(r.unit, r.parent) for r in rows], ingest_id)
    return len(given - stored), True

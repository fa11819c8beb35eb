"""Loading measured data: observations, outcome counts, behaviour, quality and capacity.

Each file kind is a list of typed columns, a natural key and the rules its rows must keep. A
file is validated whole before anything is written (every bad row is named with its column
and value); a key given twice in one file is an error; a row whose key is stored already
replaces it, so that loading the same file twice changes nothing and a corrected figure
replaces the old one.
"""

from __future__ import annotations

from valuegap.bounds import MAX_AMOUNT, too_large
from valuegap.errors import IngestError
from valuegap.records import record
from valuegap.store.database import Database
from valuegap.store.staging import (
    STAGE,
    YEARS,
    Check,
    Staged,
    as_date,
    as_decimal,
    quote,
    refuse_bad_rows,
)

_TYPED = "_valuegap_measure"
_YES = ("true", "yes", "1")
_NO = ("false", "no", "0")


@record
class Column:
    name: str
    kind: str  # text | date | count | decimal | number | choice | flag
    required: bool = True
    choices: tuple[str, ...] = ()


@record
class MeasureFile:
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # (column named in the error, SQL over typed columns "<name>" that is true for a bad row,
    # message)
    rules: tuple[tuple[str, str, str], ...] = ()

    @property
    def header(self) -> str:
        return ",".join(c.name for c in self.columns if c.required)


_PERIOD = (Column("period_start", "date"), Column("period_end", "date"))
_PERIOD_RULE = ("period_end", "period_end <= period_start",
                "must be after period_start (periods are [start, end))")  # fmt: skip
_METRIC_OF_INITIATIVE = ("metric", "metric <> '' AND (metric, initiative) NOT IN "
                         "(SELECT id, initiative_id FROM metrics)",
                         "is not a metric of this initiative")  # fmt: skip
_INITIATIVE = ("initiative", "initiative NOT IN (SELECT id FROM initiatives)",
               "is not an initiative in this ledger")  # fmt: skip

FILES: dict[str, MeasureFile] = {
    "observations": MeasureFile(
        "observations",
        (
            Column("metric", "text"),
            *_PERIOD,
            Column("group", "choice", choices=("treatment", "control", "all")),
            Column("phase", "choice", choices=("before", "after")),
            Column("n", "count", required=False),
            Column("mean", "number", required=False),
            Column("sd", "number", required=False),
            Column("sum", "decimal", required=False),
            Column("sum_sq", "decimal", required=False),
            Column("volume", "decimal", required=False),
        ),
        ("metric", "period_start", "period_end", "group", "phase"),
        (
            ("metric", "metric NOT IN (SELECT id FROM metrics)", "is not a metric in this ledger"),
            _PERIOD_RULE,
            ("n", "n IS NOT NULL AND n < 1", "must be at least 1 (the number measured)"),
            # (an n that is not a count is reported as such, not as missing)
            (
                "sd",
                'sd IS NOT NULL AND "n:raw" IS NULL',
                "is given without n: a spread needs a count",
            ),
            ("sd", "sd < 0", "must not be negative"),
            ("mean", f"abs(mean) >= {MAX_AMOUNT}", too_large("a mean", MAX_AMOUNT)),
            ("sd", f"sd >= {MAX_AMOUNT}", too_large("a standard deviation", MAX_AMOUNT)),
            ("mean", "mean IS NULL AND sum IS NULL", "is empty: give mean, or sum and n"),
            ("sum", 'sum IS NOT NULL AND "n:raw" IS NULL', "is given without n"),
            ("sum_sq", "sum_sq IS NOT NULL AND sum IS NULL", "is given without sum"),
            (
                "sum_sq",
                "sum_sq IS NOT NULL AND n > 1 AND CAST(sum_sq AS DOUBLE) - "
                "CAST(sum AS DOUBLE) ^ 2 / n < -1e-9 * abs(CAST(sum_sq AS DOUBLE))",
                "is smaller than sum^2 / n: these are not a sum of squares",
            ),
            ("volume", "volume < 0", "must not be negative"),
            ("volume", f"volume >= {MAX_AMOUNT}", too_large("a volume", MAX_AMOUNT)),
        ),
    ),
    "outcomes": MeasureFile(
        "outcome_counts",
        (
            Column("initiative", "text"),
            Column("metric", "text", required=False),
            *_PERIOD,
            Column("count", "count"),
            Column("source", "text", required=False),
        ),
        ("initiative", "metric", "period_start", "period_end"),
        (
            _INITIATIVE,
            _PERIOD_RULE,
            (
                "metric",
                "metric <> '' AND (metric, initiative) NOT IN "
                "(SELECT id, initiative_id FROM metrics)",
                "is not a metric of this initiative",
            ),
        ),
    ),
    "behaviour": MeasureFile(
        "behaviour",
        (
            Column("initiative", "text"),
            *_PERIOD,
            Column("decisions", "count"),
            Column("accepted", "count"),
            Column("overridden", "count"),
            Column("escalated", "count"),
            Column("review_minutes", "decimal", required=False),
        ),
        ("initiative", "period_start", "period_end"),
        (
            _INITIATIVE,
            _PERIOD_RULE,
            ("accepted", "accepted > decisions", "is more than the decisions made"),
            ("overridden", "overridden > decisions", "is more than the decisions made"),
            ("escalated", "escalated > decisions", "is more than the decisions made"),
            ("review_minutes", "review_minutes < 0", "must not be negative"),
        ),
    ),
    "quality": MeasureFile(
        "quality",
        (
            Column("initiative", "text"),
            *_PERIOD,
            Column("measure", "text", required=False),
            Column("score", "number"),
            Column("sample_size", "count"),
            Column("reference", "flag", required=False),
        ),
        ("initiative", "measure", "period_start", "period_end"),
        (
            _INITIATIVE,
            _PERIOD_RULE,
            ("sample_size", "sample_size < 1", "must be at least 1 (the labelled samples)"),
        ),
    ),
    "capacity": MeasureFile(
        "capacity",
        (
            Column("initiative", "text"),
            Column("metric", "text", required=False),
            *_PERIOD,
            Column("redeployed", "decimal"),
            Column("cost_reduced", "decimal"),
            Column("not_captured", "decimal"),
        ),
        ("initiative", "metric", "period_start", "period_end"),
        (
            _INITIATIVE,
            _PERIOD_RULE,
            _METRIC_OF_INITIATIVE,
            *(
                (c, f"{c} < 0", "must not be negative (hours)")
                for c in ("redeployed", "cost_reduced", "not_captured")
            ),
        ),
    ),
}

_CAST = {
    "text": "nullif(trim({v}), '')",
    "date": as_date("{v}"),
    # whole and not negative: "10.5" is not a count (a cast would round it to 11), nor "-3"
    "count": "CASE WHEN regexp_full_match(trim({v}), '[0-9]{1,18}') "
    "THEN CAST(trim({v}) AS BIGINT) END",
    "decimal": as_decimal("{v}"),
    "number": "CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) THEN TRY_CAST({v} AS DOUBLE) END",
    "choice": "lower(trim({v}))",
    "flag": f"lower(trim({{v}})) IN {_YES}",
}
_BAD = {
    "date": f"is not a date {YEARS} (YYYY-MM-DD)",
    "count": "is not a count: a whole number, zero or more",
    "decimal": "is not a decimal number",
    "number": "is not a finite number (NaN and infinity are not measurements)",
}
_DEFAULTS = {"metric": "''", "measure": "'accuracy'", "reference": "false"}


def load_measures(db: Database, staged: Staged, kind: str, ingest_id: int) -> int:
    """Validate the staged file as ``kind`` and store it; return how many rows were new or
    changed."""
    spec, file = FILES[kind], staged.file
    missing = [c.name for c in spec.columns if c.required and staged.column(c.name) is None]
    if missing:
        raise IngestError(file, [
            IngestError.at(file, None, name, None, f"is missing; the header is {spec.header}"
                           " (optional: " + ",".join(c.name for c in spec.columns
                                                     if not c.required) + ")")
            for name in missing
        ])  # fmt: skip
    raw = {c.name: staged.column(c.name) for c in spec.columns}
    selects = ["_row"]
    for c in spec.columns:
        spelled = raw[c.name]
        source = quote(spelled) if spelled else "CAST(NULL AS VARCHAR)"
        typed = _CAST[c.kind].replace("{v}", source)
        selects.append(f"{source} AS {quote(c.name + ':raw')}")
        selects.append(f"{typed} AS {quote(c.name)}")
    db.execute(f"CREATE OR REPLACE TEMP VIEW {_TYPED} AS SELECT {', '.join(selects)} FROM {STAGE}")
    checks = []
    for c in spec.columns:
        value = quote(c.name + ":raw")
        if c.required:
            checks.append(Check(c.name + ":raw", f"{value} IS NULL OR trim({value}) = ''",
                                "is required; the value is empty", c.name))  # fmt: skip
        if c.kind in _BAD:
            checks.append(Check(c.name + ":raw", f"{value} IS NOT NULL AND {quote(c.name)} IS NULL",
                                _BAD[c.kind], c.name))  # fmt: skip
        if c.kind == "choice":
            allowed = ", ".join(f"'{x}'" for x in c.choices)
            checks.append(Check(c.name + ":raw", f"{value} IS NOT NULL AND {quote(c.name)} "
                                f"NOT IN ({allowed})", f"must be one of {', '.join(c.choices)}",
                                c.name))  # fmt: skip
        if c.kind == "flag":
            allowed = ", ".join(f"'{x}'" for x in (*_YES, *_NO))
            bad = f"{value} IS NOT NULL AND lower(trim({value})) NOT IN ({allowed})"
            checks.append(Check(c.name + ":raw", bad, "must be true or false", c.name))
    for name, condition, message in spec.rules:
        # the rule is over typed values; a value that did not convert is reported above
        guarded = f"coalesce(({condition}), false)"
        checks.append(Check(name + ":raw", guarded, message, name))
    refuse_bad_rows(db, _TYPED, file, checks)
    key = ", ".join(_keyed(name) for name in spec.key)
    repeated = db.one(
        f"SELECT min(_row) FILTER (WHERE n > 1) FROM (SELECT _row, row_number() OVER "
        f"(PARTITION BY {key} ORDER BY _row) AS n FROM {_TYPED})"
    )
    if repeated and repeated[0] is not None:
        raise IngestError(file, [IngestError.at(
            file, int(repeated[0]), ",".join(spec.key), None,
            "repeats the key of another row in this file: give each once",
        )])  # fmt: skip
    values = ", ".join(_stored(c) for c in spec.columns)
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE _valuegap_new AS SELECT {values}, {ingest_id} AS ingest_id "
        f"FROM {_TYPED}"
    )
    same = " AND ".join(f"s.{quote(c.name)} IS NOT DISTINCT FROM n.{quote(c.name)}"
                        for c in spec.columns)  # fmt: skip
    changed = db.one(
        f"INSERT OR REPLACE INTO {spec.table} SELECT * FROM _valuegap_new n WHERE NOT EXISTS "
        f"(SELECT 1 FROM {spec.table} s WHERE {same})"
    )
    db.execute("DROP TABLE _valuegap_new")
    db.execute(f"DROP VIEW {_TYPED}")
    return int(changed[0]) if changed else 0


def _keyed(name: str) -> str:
    return f"coalesce({quote(name)}, {_DEFAULTS.get(name, 'NULL')})"


def _stored(c: Column) -> str:
    """The value as stored: optional key parts get their default."""
    if c.name in _DEFAULTS:
        return f"coalesce({quote(c.name)}, {_DEFAULTS[c.name]}) AS {quote(c.name)}"
    return quote(c.name)

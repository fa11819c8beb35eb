"""Loading usage events: every source is first shaped into one text staging table with the
fields of ``costs.usage.FIELDS``; one statement then checks, pseudonymises, prices and inserts
them. A file with a bad value is read once more, to name its rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from typing import Any

import duckdb
import pyarrow as pa

from valuegap.costs.usage import FIELDS, TOKEN_FIELDS
from valuegap.errors import IngestError, Problem
from valuegap.store.database import Database
from valuegap.store.pricing import EVENT_KEYS, Lookup, drop_rates, prepare_rates, price_bucket
from valuegap.store.staging import (
    STAGE,
    Check,
    Staged,
    as_decimal,
    as_utc,
    fail_if_null,
    guarded,
    literal,
    quote,
    raise_if_broken,
    read_error,
    refuse_bad_rows,
    row_text,
)

USAGE_STAGE = "_valuegap_usage"  # a view: over the staged file, or over _EVENT_ROWS
_EVENT_ROWS = "_valuegap_usage_rows"
_TAGS = "CAST(CAST(tags AS JSON) AS MAP(VARCHAR, VARCHAR))"
_COLUMNS = ("_row", *FIELDS, "tags")
_BATCH = 50_000


def stage_events(db: Database, events: Iterable[tuple[int, Mapping[str, Any]]]) -> set[str]:
    """Stage events read in Python (OpenTelemetry), a batch at a time; return the fields they
    may have (all)."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE {_EVENT_ROWS} ("
               + ", ".join(f"{quote(c)} {'BIGINT' if c == '_row' else 'VARCHAR'}"
                           for c in _COLUMNS) + ")")  # fmt: skip
    db.execute(f"CREATE OR REPLACE TEMP VIEW {USAGE_STAGE} AS SELECT * FROM {_EVENT_ROWS}")
    batch: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    for row, event in events:
        batch["_row"].append(row)
        for field in FIELDS:
            value = event.get(field)
            batch[field].append(None if value is None else str(value))
        batch["tags"].append(json.dumps(event.get("tags") or {}))
        if len(batch["_row"]) >= _BATCH:
            _flush(db, batch)
    _flush(db, batch)
    return set(FIELDS)


def _flush(db: Database, batch: dict[str, list[Any]]) -> None:
    if not batch["_row"]:
        return
    db.insert_arrow(_EVENT_ROWS, pa.table(batch))
    for values in batch.values():
        values.clear()


# LiteLLM's request_tags: a JSON list of "key:value" (or bare) tags, each key once. A value
# that is not such a list gives NULL (and is refused by a check, which names its row).
_LITELLM_TAGS = """try(CAST(to_json(map_from_entries(list_transform(
    CAST(json({column}) AS VARCHAR[]),
    t -> {{'key': split_part(t, ':', 1),
          'value': CASE WHEN contains(t, ':') THEN substr(t, strpos(t, ':') + 1) ELSE 'true' END}}
))) AS VARCHAR))"""


def stage_mapped(
    db: Database, staged: Staged, mapping: Mapping[str, str], *, litellm: bool = False
) -> set[str]:
    """Shape a staged CSV/Parquet file into the usage staging table with ``mapping``
    (field -> the file's column; ``tag.<key>`` fields become tags; LiteLLM's request_tags
    become tags too); return the fields the file has (the others are null)."""
    problems: list[Problem] = []
    selects = ["_row"] if staged.numbered else []
    present = set()
    for field in FIELDS:
        column = mapping.get(field) or staged.column(field)
        if column is None and field == "request_model":
            column = staged.column("model")  # a file's plain "model" column
        if field in mapping and staged.column(mapping[field]) is None:
            problems.append(
                IngestError.at(
                    staged.file,
                    None,
                    mapping[field],
                    None,
                    f"is mapped to {field} but the file has no such column",
                )
            )
        found = staged.column(column) if column else None
        if found:
            present.add(field)
        selects.append(
            f"{quote(found)} AS {quote(field)}"
            if found
            else f"CAST(NULL AS VARCHAR) AS {quote(field)}"
        )
    tag_columns = {k.removeprefix("tag."): v for k, v in mapping.items() if k.startswith("tag.")}
    for key, column in tag_columns.items():
        if staged.column(column) is None:
            problems.append(
                IngestError.at(
                    staged.file,
                    None,
                    column,
                    None,
                    f"is mapped to tag.{key} but the file has no such column",
                )
            )
    pairs = ", ".join(f"{literal(k)}, {quote(staged.column(c) or c)}"
                      for k, c in tag_columns.items())  # fmt: skip
    request_tags = staged.column("request_tags") if litellm else None
    if request_tags:
        tags = _LITELLM_TAGS.format(column=quote(request_tags))
        selects.append(f"coalesce({tags}, '{{}}') AS tags")
        selects.append(f"{quote(request_tags)} AS request_tags")
        selects.append(f"{quote(request_tags)} IS NOT NULL AND {tags} IS NULL AS bad_tags")
    else:
        selects.append(
            f"CAST(json_object({pairs}) AS VARCHAR) AS tags" if pairs else "'{}' AS tags"
        )
    if problems:
        raise IngestError(staged.file, problems)
    db.execute(f"CREATE OR REPLACE TEMP VIEW {USAGE_STAGE} AS SELECT {', '.join(selects)} "
               f"FROM {STAGE}")  # fmt: skip
    return present


_REQUIRED: tuple[Check, ...] = (
    Check("timestamp", "{v} IS NULL", "is required: when the call was made"),
    Check("request_model", "{v} IS NULL AND response_model IS NULL",
          "is required (the request or the response model)"),
)  # fmt: skip
_VALUES: tuple[Check, ...] = (  # each checks a value that is there, so only a field a file has
    Check("timestamp", f"{{v}} IS NOT NULL AND {as_utc('{v}')} IS NULL",
          "is not a timestamp (ISO 8601; without a zone it is read as UTC)"),
    *(Check(f, "{v} IS NOT NULL AND coalesce(TRY_CAST({v} AS BIGINT), -1) < 0",
            "is not a whole number of tokens >= 0") for f in TOKEN_FIELDS),
    Check("cost", f"{{v}} IS NOT NULL AND {as_decimal('{v}')} IS NULL", "is not a decimal number"),
    Check("currency", "{v} IS NOT NULL AND NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')",
          "is not an ISO 4217 currency code such as USD"),
)  # fmt: skip


def load_usage(
    db: Database,
    file: str,
    source: str,
    ingest_id: int,
    pseudonymise: Callable[[str], str],
    lookup: Lookup,
    present: Collection[str],
    column_names: Mapping[str, str] | None = None,
    *,
    checks_first: bool = False,
) -> tuple[int, int]:
    """Insert and price the staged events that are new: (rows read, added). A bad value makes
    the insert fail with ``BrokenRow``; ``checks_first`` reads the file for bad rows first, to
    name them. ``present``: the fields the source has (the others are null in every event)."""
    names = column_names or {}
    checks = [*_REQUIRED, *(c for c in _VALUES if c.column in present)]
    if any(r["column_name"] == "bad_tags" for r in db.all(f"DESCRIBE {USAGE_STAGE}")):
        message = 'is not a JSON list of tags, each key once, such as ["team:ml"]'
        checks.append(Check("request_tags", "bad_tags", message))
    labelled = [replace(c, label=names.get(c.column, c.column)) for c in checks]
    text = row_text((*FIELDS, "tags"))
    bucket = price_bucket("lower(provider)", "request_model", "response_model", as_utc("timestamp"))
    ids = "event_id" in present
    key_hash = "CASE WHEN event_id IS NOT NULL THEN hash(event_id) END" if ids else f"hash({text})"
    users = 'list(DISTINCT "user") FILTER (WHERE "user" IS NOT NULL)' if "user" in present else "[]"
    if checks_first:
        refuse_bad_rows(db, USAGE_STAGE, file, labelled)
    guards = [] if checks_first else checks
    # One read of the staged file (a CSV file is read again for each query over its view)
    # finds what the insert needs to know first, for the fields the file has (an aggregate
    # takes its time even over nulls). Distinct ids and rows are counted by their 64-bit
    # hashes, much faster than by their text: a collision only makes the insert number rows
    # that it did not have to.
    try:
        scanned = db.one(
            f"""SELECT count(*), count(event_id), count(DISTINCT {key_hash}),
                {users}, list(DISTINCT {bucket})
            FROM {USAGE_STAGE}"""
        )
    except duckdb.Error as exc:
        raise read_error(file, exc) from exc
    assert scanned is not None
    read, with_id, distinct_keys, found_users, buckets = scanned
    db.execute(
        'CREATE OR REPLACE TEMP TABLE _valuegap_pseudonyms ("user" VARCHAR, pseudonym VARCHAR)'
    )
    if found_users:
        db.insert_arrow("_valuegap_pseudonyms", pa.table({
            "user": found_users, "pseudonym": [pseudonymise(u) for u in found_users]}))  # fmt: skip
    pricing = prepare_rates(db, lookup, buckets or [])
    keyed = []  # each branch only when the file has such events: each reads the file
    if with_id or not read:
        keyed.append(
            f"SELECT *, event_id AS event_key FROM {USAGE_STAGE} WHERE event_id IS NOT NULL"
        )
    if with_id < read:
        # Identical rows without an id are numbered; most files have none, and numbering
        # is then left out (it costs as much as the rest of the insert).
        distinct_rows = distinct_keys  # without ids, the keys counted were the rows' texts
        if ids:
            counted = db.one(f"SELECT count(DISTINCT hash({text})) FROM {USAGE_STAGE} "
                             "WHERE event_id IS NULL")  # fmt: skip
            distinct_rows = counted[0] if counted else 0
        repeats = distinct_rows < read - with_id
        occurrence = "row_number() OVER (PARTITION BY content_hash)" if repeats else "1"
        keyed.append(f"""SELECT *, content_hash || '-' || {occurrence} AS event_key
            FROM (SELECT *, md5({text}) AS content_hash
                  FROM {USAGE_STAGE} WHERE event_id IS NULL)""")
    tokens = ", ".join(guarded(f"coalesce(TRY_CAST({f} AS BIGINT), 0)", guards, f) + f" AS {f}"
                       for f in TOKEN_FIELDS)  # fmt: skip
    currency = "CASE WHEN cost IS NOT NULL THEN coalesce(upper(trim(currency)), 'USD') END"
    # The timestamp and cost checks hold exactly when their conversions give null.
    ts, cost = as_utc("timestamp"), as_decimal("cost")
    if not checks_first:
        ts, cost = fail_if_null(ts), fail_if_null(cost, unless_null="cost")
    # One statement from the staged file to the ledger. Every row is checked as it is
    # converted (unless the checks came first), before those already stored are left out.
    # An event id is the key; identical rows without one are numbered, so that re-ingesting
    # a file adds nothing and identical calls still count.
    try:
        with db.unordered():
            added = db.one(
                f"""INSERT INTO usage_events (event_key, ingest_id, source, ts, provider,
                    request_model, response_model, {", ".join(TOKEN_FIELDS)}, reported_cost,
                    reported_currency, computed_cost, price_source, api_key, team, initiative,
                    user_pseudonym, tags)
                WITH keyed AS ({" UNION ALL BY NAME ".join(keyed)}
                ), checked AS (
                    SELECT event_key, {ts} AS ts, lower(provider) AS provider,
                        {guarded("request_model", guards, "request_model")} AS request_model,
                        response_model, {tokens},
                        {cost} AS reported_cost,
                        {guarded(currency, guards, "currency")} AS reported_currency,
                        api_key, team, initiative, "user",
                        {
                    guarded(f"CASE WHEN tags <> '{{}}' THEN {_TAGS} END", guards, "request_tags")
                } AS tags
                    FROM keyed
                ), new AS (
                    SELECT * FROM checked ANTI JOIN usage_events USING (event_key)
                    {
                    "QUALIFY row_number() OVER (PARTITION BY event_key) = 1"
                    if ids and distinct_keys < with_id
                    else ""
                }
                )
                SELECT e.event_key, ?, ?, e.ts, e.provider, e.request_model, e.response_model,
                    {", ".join(f"e.{f}" for f in TOKEN_FIELDS)}, e.reported_cost,
                    e.reported_currency, {pricing.cost}, {pricing.source}, e.api_key, e.team,
                    e.initiative, p.pseudonym, e.tags
                FROM (SELECT e0.*, {EVENT_KEYS} FROM new e0) e
                LEFT JOIN _valuegap_pseudonyms p USING ("user")
                {pricing.joins}""",
                [ingest_id, source],
            )
    except duckdb.InvalidInputException as exc:
        raise_if_broken(file, exc)
        raise
    db.execute(f"DROP VIEW {USAGE_STAGE}")
    for table in (_EVENT_ROWS, "_valuegap_pseudonyms"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    drop_rates(db)
    return read, (int(added[0]) if added else 0)

"""Loading usage events: every source is first shaped into one text staging table with the
fields of ``model.usage.FIELDS``; one statement then checks, pseudonymises, prices and inserts
them. A file with a bad value is read once more, to name its rows."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

import duckdb

from valuegap.bounds import MAX_TOKENS, MAX_USAGE_COST, too_large
from valuegap.errors import IngestError, Problem
from valuegap.model.pricing import Pricer
from valuegap.model.pseudonyms import PERSON_ATTRIBUTES, PERSON_PREFIXES, PersonData
from valuegap.model.usage import FIELDS, INFERENCE_OPERATIONS, TOKEN_FIELDS, TokenCounts
from valuegap.sources import Input
from valuegap.store.database import Database
from valuegap.store.pricing import (
    COST,
    CURRENCY,
    SOURCE,
    drop_rates,
    prepare_rates,
    price_bucket,
    refuse_overpriced,
)
from valuegap.store.removal import FILE_KEYS
from valuegap.store.staging import (
    STAGE,
    YEARS,
    Check,
    Staged,
    as_decimal,
    as_usage_cost,
    as_utc,
    fail_if,
    fail_if_null,
    guarded,
    literal,
    negative,
    quote,
    raise_read_failure,
    read_error,
    refuse_bad_rows,
)

INCLUDED = TokenCounts()  # the OpenTelemetry conventions' counting
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
    import pyarrow as pa

    events = iter(events)
    while rows := list(islice(events, _BATCH)):
        # Column by column, in comprehensions: this runs for every field of every span.
        batch: dict[str, list[Any]] = {"_row": [row for row, _ in rows]}
        for field in FIELDS:
            batch[field] = [None if (v := e.get(field)) is None else str(v) for _, e in rows]
        batch["tags"] = [json.dumps(t) if (t := e.get("tags")) else "{}" for _, e in rows]
        db.insert_arrow(_EVENT_ROWS, pa.table(batch))
    return set(FIELDS)


# LiteLLM's request_tags: a JSON list of "key:value" (or bare) tags, each key once. A value
# that is not such a list gives NULL (and is refused by a check, which names its row).
# A bare tag that holds an e-mail address (``ana@corp``, a tag of no key) is a person: dropped.
_LITELLM_TAGS = """try(CAST(to_json(map_from_entries(list_transform(
    list_filter(CAST(json({column}) AS VARCHAR[]), t -> contains(t, ':') OR NOT contains(t, '@')),
    t -> {{'key': split_part(t, ':', 1),
          'value': CASE WHEN contains(t, ':') THEN substr(t, strpos(t, ':') + 1) ELSE 'true' END}}
))) AS VARCHAR))"""


def stage_mapped(
    db: Database, staged: Staged, mapping: Mapping[str, str], *, litellm: bool = False
) -> set[str]:
    """Shape a staged CSV/Parquet file into the usage staging table with ``mapping``
    (field -> the file's column; ``tag.<key>`` fields become tags; LiteLLM's request_tags
    become tags too); return the fields the file has (the others are null), and "tags" if
    it has tags."""
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
    if request_tags or pairs:
        present.add("tags")
    if not present & {"timestamp", "request_model", "response_model"}:
        # not a usage file (rows are not read, so that nothing of it is shown)
        message = "is missing, and so is a model column: this is not a usage file of this format"
        problems.append(IngestError.at(staged.file, None, "timestamp", None, message))
    if problems:
        raise IngestError(staged.file, problems)
    db.execute(f"CREATE OR REPLACE TEMP VIEW {USAGE_STAGE} AS SELECT {', '.join(selects)} "
               f"FROM {STAGE}")  # fmt: skip
    return present


# SQL: the staged event is a model call: it names an inference operation, or none.
_COUNTED = (
    "(operation IS NULL OR lower(trim(operation)) IN "
    f"({', '.join(map(literal, INFERENCE_OPERATIONS))}))"
)
_REQUIRED: tuple[Check, ...] = (
    Check("timestamp", "{v} IS NULL", "is required: when the call was made"),
    Check("request_model", f"{{v}} IS NULL AND response_model IS NULL AND {_COUNTED}",
          "is required for a model call (the request or the response model)"),
)  # fmt: skip
# A token count is whole (12 or 12.0, never 1.5), from 0 to MAX_TOKENS; the test of a decimal
# point first, so that only a count written with one costs a pattern match.
_NOT_A_COUNT = (
    f"{{v}} IS NOT NULL AND (coalesce(TRY_CAST({{v}} AS BIGINT), -1) NOT BETWEEN 0 AND "
    f"{MAX_TOKENS} OR (contains({{v}}, '.') AND NOT regexp_full_match(trim({{v}}), "
    "'[0-9]*[.]0*')))"
)
_VALUES: tuple[Check, ...] = (  # each checks a value that is there, so only a field a file has
    Check("timestamp", f"{{v}} IS NOT NULL AND {as_utc('{v}')} IS NULL",
          f"is not a timestamp {YEARS} (ISO 8601; without a zone it is read as UTC)"),
    *(Check(f, _NOT_A_COUNT, f"is not a whole number of tokens from 0 to {MAX_TOKENS:,}")
      for f in TOKEN_FIELDS),
    Check("cost", f"{{v}} IS NOT NULL AND {as_decimal('{v}')} IS NULL", "is not a decimal number"),
    Check("currency", "{v} IS NOT NULL AND NOT regexp_full_match(upper(trim({v})), '[A-Z]{3}')",
          "is not an ISO 4217 currency code such as USD"),
)  # fmt: skip
# A usage cost's bound and sign (not asked of a file read for its keys, to remove the events
# it brought, which may have been stored before these checks).
_COST_BOUNDS: tuple[Check, ...] = (
    Check(
        "cost",
        f"{as_decimal('{v}')} IS NOT NULL AND {as_usage_cost('{v}')} IS NULL",
        too_large("a usage event's cost", MAX_USAGE_COST),
    ),
    Check(
        "cost",
        negative("{v}", as_usage_cost("{v}")),
        "is negative: a usage cost is what a call cost, 0 or more (a refund or credit belongs "
        "on the bill, FOCUS, or among manual costs as a credit)",
    ),
)


def _tokens(name: str) -> str:
    return f"coalesce(TRY_CAST({quote(name)} AS BIGINT), 0)"


def _part_checks(present: Collection[str], counts: TokenCounts) -> list[Check]:
    """Usage that is impossible where cache tokens are part of the input tokens and reasoning
    tokens part of the output tokens: more of the part than of the whole."""
    advice = (
        "; if this source counts them apart from the {total}, say so in the setting token_counts"
    )
    checks = []
    cache = [f for f in ("cache_read_tokens", "cache_write_tokens") if f in present]
    if cache and counts.cache == "included":
        parts = " + ".join(_tokens(f) for f in cache)
        checks.append(
            Check(
                cache[0],
                f"{parts} > greatest({_tokens('input_tokens')}, 0)",
                "cache tokens exceed the input tokens they are part of"
                + advice.format(total="input tokens"),
            )
        )
    if "reasoning_tokens" in present and counts.reasoning == "included":
        checks.append(
            Check(
                "reasoning_tokens",
                f"{_tokens('reasoning_tokens')} > greatest({_tokens('output_tokens')}, 0)",
                "reasoning tokens exceed the output tokens they are part of"
                + advice.format(total="output tokens"),
            )
        )
    return checks


def _counted_tokens(field: str, counts: TokenCounts, present: Collection[str]) -> str:
    """SQL for a token count as the OpenTelemetry conventions count it."""
    parts = [field]
    if field == "input_tokens" and counts.cache == "separate":
        parts += [f for f in ("cache_read_tokens", "cache_write_tokens") if f in present]
    if field == "output_tokens" and counts.reasoning == "separate":
        parts += [f for f in ("reasoning_tokens",) if f in present]
    return " + ".join(_tokens(p) for p in parts)


def person_key(key: str, person_attributes: Collection[str] = ()) -> str:
    """SQL: whether the tag key ``key`` identifies a person (as ``is_person_attribute``)."""
    name = f"lower(trim({key}))"
    prefixes = " OR ".join(f"starts_with({name}, {literal(p)})" for p in PERSON_PREFIXES)
    names = ", ".join(literal(n) for n in sorted(PERSON_ATTRIBUTES | set(person_attributes)))
    return f"({prefixes} OR {name} IN ({names}))"


def _person_values(tags: str, person: PersonData) -> str:
    """SQL: the distinct values of the person tags among ``tags`` (a map) of all rows."""
    return f"""list_distinct(flatten(list(list_transform(list_filter(map_entries({tags}),
        e -> {person_key("e.key", person.more)}), e -> e.value))))"""


def _pseudonymised_tags(tags: str, person: PersonData) -> str:
    """SQL for a map of tags whose person values are replaced by their pseudonyms (the map
    ``_pseudonyms``, computed in Python)."""
    return f"""map_from_entries(list_transform(map_entries({tags}), e -> {{'key': e.key,
        'value': CASE WHEN {person_key("e.key", person.more)} THEN _pseudonyms[e.value]
            ELSE e.value END}}))"""


# How far from a new span's start a stored call with its ids is looked for: the same span
# sent again starts at the same instant, written in another way at most a microsecond apart.
SPAN_REPEAT_WINDOW = "INTERVAL 1 DAY"


def load_usage(
    db: Database,
    origin: Input,
    source: str,
    ingest_id: int,
    person: PersonData,
    pricer: Pricer,
    present: Collection[str],
    column_names: Mapping[str, str] | None = None,
    counts: TokenCounts = INCLUDED,
    *,
    checks_first: bool = False,
    keys_only: bool = False,
) -> tuple[int, int]:
    """Insert and price the staged events that are new: (rows read, added). A bad value makes
    the insert fail with ``BrokenRow``; ``checks_first`` reads the file for bad rows first, to
    name them. ``present``: the fields the source has (the others are null in every event);
    ``counts``: how the source counts cache and reasoning tokens. Person attributes among the
    tags are pseudonymised, unless the source did (OpenTelemetry spans are read in Python).
    ``keys_only``: store nothing, and write the events' keys to the table ``FILE_KEYS``."""
    file, names = origin.name, column_names or {}
    checks = [
        *_REQUIRED,
        *(c for c in _VALUES if c.column in present),
        *(c for c in _COST_BOUNDS if c.column in present and not keys_only),
        *_part_checks(present, counts),
    ]
    if any(r["column_name"] == "bad_tags" for r in db.all(f"DESCRIBE {USAGE_STAGE}")):
        message = 'is not a JSON list of tags, each key once, such as ["team:ml"]'
        checks.append(Check("request_tags", "bad_tags", message))
    labelled = [replace(c, label=names.get(c.column, c.column)) for c in checks]
    bucket = price_bucket(
        pricer,
        "nullif(lower(provider), '')",
        "request_model",
        "response_model",
        as_utc("timestamp"),
    )
    ids = "event_id" in present
    users = 'list(DISTINCT "user") FILTER (WHERE "user" IS NOT NULL)' if "user" in present else "[]"
    # spans are pseudonymised as they are read
    tagged = source != "otel" and "tags" in present
    person_values = _person_values(f"try({_TAGS})", person) if tagged else "[]"
    if checks_first:
        refuse_bad_rows(db, USAGE_STAGE, file, labelled)
    guards = [] if checks_first else checks
    # Spans sent again are looked for among the calls of their times (``_stored_keys``).
    spans = source == "otel"
    span_starts = (
        f"min({as_utc('timestamp')}), max({as_utc('timestamp')})" if spans else "NULL, NULL"
    )
    # One read of the staged file (a CSV file is read again for each query over its view)
    # finds what the insert needs to know first, for the fields the file has (an aggregate
    # takes its time even over nulls). Distinct ids are counted by their 64-bit hashes, much
    # faster than by their text: a collision only makes the insert number rows that it did
    # not have to.
    distinct_ids = (
        "count(DISTINCT hash(event_id)) FILTER (WHERE event_id IS NOT NULL)" if ids else "0"
    )
    try:
        scanned = db.one(
            f"""SELECT count(*), count(event_id), {distinct_ids}, {users}, {person_values},
                list(DISTINCT {bucket}), min(strlen(event_id)), max(strlen(event_id)),
                {span_starts}
            FROM {USAGE_STAGE}"""
        )
    except duckdb.Error as exc:
        raise read_error(origin, exc) from exc
    assert scanned is not None
    read, with_id, distinct_keys, found_users, found_in_tags, buckets, *bounds = scanned
    lengths, starts = bounds[:2], bounds[2:]
    db.execute(
        'CREATE OR REPLACE TEMP TABLE _valuegap_pseudonyms ("user" VARCHAR, pseudonym VARCHAR)'
    )
    identities = sorted(set(found_users or ()) | set(found_in_tags or ()))
    if identities:
        import pyarrow as pa

        pseudonyms = [person.pseudonymise(u) for u in identities]
        db.insert_arrow(
            "_valuegap_pseudonyms", pa.table({"user": identities, "pseudonym": pseudonyms})
        )
    pricing = prepare_rates(db, pricer, buckets or [])
    tokens = ", ".join(
        guarded(_counted_tokens(f, counts, present), guards, f) + f" AS {f}" for f in TOKEN_FIELDS
    )
    currency = "CASE WHEN cost IS NOT NULL THEN coalesce(upper(trim(currency)), 'USD') END"
    # The timestamp and cost checks hold exactly when their conversions give null.
    ts, cost = as_utc("timestamp"), as_decimal("cost") if keys_only else as_usage_cost("cost")
    if keys_only and not checks_first:
        ts, cost = fail_if_null(ts), fail_if_null(cost, unless_null="cost")
    elif not checks_first:
        unsigned = fail_if_null(cost, unless_null="cost")
        ts, cost = fail_if_null(ts), fail_if(negative("cost", cost), unsigned)
    # A price (an organisation's, or the catalogue's) times the tokens may come to more than a
    # usage event's bound: refused, as a value of the file is.
    computed = (
        "computed_cost"
        if checks_first
        else fail_if(f"abs(computed_cost) >= {MAX_USAGE_COST}", "computed_cost")
    )
    tags = f"CASE WHEN tags <> '{{}}' THEN {_TAGS} END"
    pseudonyms_map = ""
    if found_in_tags:
        tags = _pseudonymised_tags(tags, person)
        pseudonyms_map = """, (SELECT map(list("user"), list(pseudonym)) AS _pseudonyms
            FROM _valuegap_pseudonyms)"""
    tags = guarded(tags, guards, "request_tags")
    keyed = []  # each branch only when the file has such events: each reads the file
    if with_id or not read:
        repeated = ids and distinct_keys < with_id  # an id twice: one call, exported twice
        dedupe = "QUALIFY row_number() OVER (PARTITION BY event_id) = 1" if repeated else ""
        keyed.append(
            "SELECT *, event_id AS event_key FROM pseudonymised "
            f"WHERE event_id IS NOT NULL {dedupe}"
        )
    if with_id < read:
        # A row without an id is keyed by its values, typed and normalised (an instant, not
        # its spelling; no person data at all); identical rows are distinct calls,
        # numbered by their occurrence, so that re-ingesting a file adds nothing.
        values = key_text(person.more)
        keyed.append(f"""SELECT *, content_hash || '-' || row_number() OVER (
                PARTITION BY content_hash) AS event_key
            FROM (SELECT *, md5({values}) AS content_hash
                  FROM pseudonymised WHERE event_id IS NULL)""")
    # The events as the ledger keys them: every row checked as it is converted (unless the
    # checks came first), before those already stored are left out.
    events = f"""WITH checked AS (
            SELECT event_id, {ts} AS ts, nullif(lower(provider), '') AS provider,
                {guarded("request_model", guards, "request_model")} AS request_model,
                response_model, lower(trim(operation)) AS operation,
                {_COUNTED} AS counted, {tokens},
                {cost} AS reported_cost,
                {guarded(currency, guards, "currency")} AS reported_currency,
                api_key, team, initiative, "user", {tags} AS tags
            FROM {USAGE_STAGE}{pseudonyms_map}
        ), pseudonymised AS (
            SELECT c.* EXCLUDE ("user"), p.pseudonym AS user_pseudonym
            FROM checked c LEFT JOIN _valuegap_pseudonyms p USING ("user")
        ), keyed AS ({" UNION ALL BY NAME ".join(keyed)}
        )"""
    if keys_only:
        try:
            db.execute(
                f"CREATE OR REPLACE TEMP TABLE {FILE_KEYS} AS {events} "
                "SELECT DISTINCT event_key AS key FROM keyed"
            )
        except duckdb.InvalidInputException as exc:
            raise_read_failure(origin, exc)
        _drop_usage_stage(db)
        return read, 0
    # One statement from the staged file to the ledger.
    stored = _stored_keys(read, with_id, lengths, starts)
    try:
        with db.unordered():
            added = db.one(
                f"""INSERT INTO usage_events (event_key, ingest_id, source, ts, provider,
                    request_model, response_model, operation, counted,
                    {", ".join(TOKEN_FIELDS)}, reported_cost, reported_currency, computed_cost,
                    computed_currency, price_source, api_key, team, initiative,
                    user_pseudonym, tags)
                {events}, new AS (SELECT * FROM keyed ANTI JOIN {stored} USING (event_key))
                SELECT * REPLACE ({computed} AS computed_cost) FROM (
                    SELECT e.event_key, ?, ?, e.ts, e.provider, e.request_model,
                        e.response_model, e.operation, e.counted,
                        {", ".join(f"e.{f}" for f in TOKEN_FIELDS)},
                        e.reported_cost, e.reported_currency,
                        CASE WHEN e.counted THEN {COST} END AS computed_cost,
                        CASE WHEN e.counted THEN {CURRENCY} END,
                        CASE WHEN e.counted THEN {SOURCE} END, e.api_key, e.team, e.initiative,
                        e.user_pseudonym, e.tags
                    FROM (SELECT e0.*, {pricing.keys} FROM new e0) e
                    {pricing.join})""",
                [ingest_id, source],
            )
    except duckdb.InvalidInputException as exc:
        raise_read_failure(origin, exc)
    if checks_first:
        refuse_overpriced(db, "ingest_id = ?", [ingest_id], file)
    _drop_usage_stage(db)
    return read, (int(added[0]) if added else 0)


def _stored_keys(
    read: int,
    with_id: int,
    lengths: list[int | None],
    starts: list[datetime | None],
) -> str:
    """SQL for the stored events a new one may repeat. Where every new event has an id, only
    keys of the ids' lengths (in bytes): the others are left out as they are read, before
    they are hashed to be looked for (other sources key their events by ids of other
    lengths: a call's id, a row's content hash); on a ledger whose 10 M events came from a
    file, this nearly halves the INSERT of a drain of 50,000 spans. A span sent again keeps
    its start, up to how its exporter writes the time (nanoseconds or text, rounded or cut to
    the microsecond): ``starts``, the first and last of the new spans', bound the stored
    calls looked at, a day wider each side (``SPAN_REPEAT_WINDOW``), and DuckDB leaves out the
    row groups whose times are all outside without reading them, so that a drain of spans
    dated now looks at the last few row groups rather than at every key (0.7 ms rather than
    200 on the benchmark ledger of 10 M calls)."""
    shortest, longest = lengths
    if not read or with_id < read or shortest is None or longest is None:
        return "usage_events"
    keys = f"strlen(event_key) BETWEEN {int(shortest)} AND {int(longest)}"
    if None not in starts:  # spans (other sources give none), whose starts the checks accept
        first, last = (f"TIMESTAMP '{start}'" for start in starts)
        window = SPAN_REPEAT_WINDOW
        keys += f" AND ts BETWEEN {first} - {window} AND {last} + {window}"
    return f"(SELECT event_key FROM usage_events WHERE {keys})"


def _drop_usage_stage(db: Database) -> None:
    db.execute(f"DROP VIEW {USAGE_STAGE}")
    for table in (_EVENT_ROWS, "_valuegap_pseudonyms"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    drop_rates(db)


# What keys a row without an id: its values as stored (the tags in key order), but the
# person's pseudonyms, which another pseudonym key would change.
_KEY_FIELDS = (
    "ts", "provider", "request_model", "response_model", "operation", *TOKEN_FIELDS,
    "reported_cost", "reported_currency", "api_key", "team", "initiative",
)  # fmt: skip


def key_text(person_attributes: Collection[str] = ()) -> str:
    """SQL for the text of a row's stored values, a null as chr(30), each followed by chr(31)
    but the last (the same as migration 7 computes for rows stored before)."""
    tags = f"list_filter(map_entries(tags), e -> NOT {person_key('e.key', person_attributes)})"
    values = [
        *(f"CAST({f} AS VARCHAR)" for f in _KEY_FIELDS),
        f"CAST(nullif(list_sort({tags}), []) AS VARCHAR)",
    ]
    return f"concat_ws(chr(31), {', '.join(f'coalesce({v}, chr(30))' for v in values)})"

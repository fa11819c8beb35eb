"""The sums of an external source's partitions, made on the engine with the rollup's own code
(``costs.rollup``), and read back from the ledger as the rollup's summed lines.

A partition is summed by month and by every key a rollup may ask for (``LINE_KEYS``, and the
tags the allocation rules read), with each kind of token, at 18 decimal places; a rollup
then adds the partitions' sums up to its own keys and rounds them to 10 places once, as the
rollup over the ledger's facts rounds its sums."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from valuegap.costs.rules import ALWAYS
from valuegap.errors import ValidationError
from valuegap.model.pricing import Pricer
from valuegap.model.usage import TOKEN_FIELDS

if TYPE_CHECKING:
    from valuegap.costs.engines import Engine
    from valuegap.store.sources import SourceRow

# Every column of a summed line a report or a rule may look at.
LINE_KEYS = (*ALWAYS, "service_category", "sub_account", "api_key", "model", "team")
# A source keeps monthly sums: no day, as a manual cost has none (``daily.DAY_KEYS``).
_MONTHLY = {"day": None, "days": 0}
_PLACES = Decimal("1E-10")  # a summed line's amount, as the rollup rounds it (MONEY)


def partition_sums(
    engine: Engine,
    source: SourceRow,
    paths: Sequence[str],
    keys: Sequence[str],
    pricer: Pricer,
    cost_column: str,
) -> tuple[dict[str, int], dict[str, list[dict[str, Any]]]]:
    """Read the files ``paths`` of ``source`` on ``engine``: check every value (a bad one
    raises ``IngestError`` naming its file and row), then sum them by ``keys`` and by file.
    Returns each file's rows and sums (plain paths)."""
    import ibis

    from valuegap.costs.engines import plain_path
    from valuegap.costs.external import (
        bad_rows,
        focus_table,
        price_keys,
        problems_found,
        rate_table,
        refuse,
        usage_table,
    )
    from valuegap.costs.rollup import LINE_MONEY, focus_lines, summed, usage_lines

    if source.kind == "focus":
        columns = engine.columns(list(paths[:1]), source.format)
        tags = [c for c in columns if c.lower() == "tags"]
        raw = engine.read(paths, source.format, tags)
        shaped, checks = focus_table(raw)
        lines = focus_lines(shaped, cost_column, token_kinds=True, keep=["_file"])
    else:
        tags = [source.mapping.get("tags", "tags")]
        columns = engine.columns(list(paths[:1]), source.format)
        tags = [c for c in columns if c.lower() in {t.lower() for t in tags}]
        raw = engine.read(paths, source.format, tags)
        by_request = bool(pricer.overrides)

        def rates(events: ibis.Table) -> ibis.Table:
            keyed = events.filter(events.counted).select(**price_keys(events, by_request))
            buckets = engine.rows(keyed.distinct())
            return engine.small_table("_valuegap_source_rates", rate_table(pricer, buckets))

        shaped, checks = usage_table(raw, source.mapping, rates, by_request)
        lines = usage_lines(shaped, token_kinds=True, keep=["_file"])
    counted = {f"bad_{n}": c.bad.fill_null(False).cast("int64").sum() for n, c in enumerate(checks)}
    per_file = engine.rows(raw.group_by("_file").aggregate(rows=raw.count()))
    bad = engine.rows(raw.aggregate(**counted)) if checks else []
    if bad and any(bad[0].values()):
        refuse(source.location, problems_found(engine.rows(bad_rows(raw, checks)), checks))
    rows = engine.rows(summed(lines, [*keys, "_file"], token_kinds=True, money=LINE_MONEY))
    sums: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sums.setdefault(plain_path(row.pop("_file")), []).append(row)
    counts = {plain_path(r["_file"]): int(r["rows"]) for r in per_file}
    return counts, sums


def stored_sums(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], *, token_kinds: bool = False
) -> list[dict[str, Any]]:
    """The sources' stored sums (``SourceStore.sums``) added up by ``keys``, in the shape of
    the rollup's summed lines."""
    wanted = [k for k in keys if k != "month" and k not in _MONTHLY]
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        attributes = {**row["attributes"], **_MONTHLY}
        lacking = [k for k in wanted if k not in attributes]
        if lacking:
            raise _not_kept(lacking)
        key = tuple(row["month"] if k == "month" else attributes[k] for k in keys)
        found = totals.get(key)
        if found is None:
            found = totals[key] = {
                **dict(zip(keys, key, strict=True)),
                "amount": None,
                "tokens": 0,
                "requests": 0,
                **dict.fromkeys(TOKEN_FIELDS if token_kinds else (), 0),
            }
        if row["amount"] is not None:
            found["amount"] = (found["amount"] or Decimal(0)) + row["amount"]
        for name in ("tokens", "requests", *(TOKEN_FIELDS if token_kinds else ())):
            found[name] += row[name]
    for found in totals.values():
        if found["amount"] is not None:
            found["amount"] = found["amount"].quantize(_PLACES, rounding=ROUND_HALF_UP)
    return list(totals.values())


def _not_kept(lacking: Sequence[str]) -> ValidationError:
    """The sums lack ``lacking``: a tag that no allocation rule reads is not kept in them
    (to report by it, a rule must read it, then the sources are synced); any other key, the
    rules changed since the last sync."""
    tags = [key for key in lacking if key.startswith("tag:")]
    if tags:
        return ValidationError(
            "The external sources keep their sums by the tags the allocation rules read, and "
            "no rule reads " + ", ".join(tags) + "; nothing was computed. Add a rule that "
            "reads it and sync the sources (`sources.sync()`), or report by another key.",
            [],
        )
    return ValidationError(
        "The external sources' sums were made for other allocation rules; nothing was "
        "computed. Sync the sources (`sources.sync()`), then report again.",
        [],
    )

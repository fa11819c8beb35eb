"""The cost side of ``Ledger``: ingest, allocation rules, reports, reconciliation.

``Ledger`` inherits this; it is kept apart so that each file stays about one thing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal

from valuegap.costs.allocation import DIMENSIONS
from valuegap.costs.trueup import TrueUp
from valuegap.decimals import plain
from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.store.costs import CostStore
from valuegap.store.database import Database
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.proof import FACTS, combined, fact_table, read_totals

UsageFormat = Literal["otel", "litellm", "csv"]
Progress = Callable[[int], None]
Load = Callable[[Path, int], tuple[int, int]]  # (file, ingest id) -> (rows read, rows added)
Stage = Callable[[Database, Path], Any]  # how a file is staged: (ledger, file) -> Staged


@dataclass(frozen=True)
class IngestResult:
    kind: str
    file: str
    rows_read: int
    rows_added: int
    true_ups: tuple[TrueUp, ...] = ()

    @property
    def rows_skipped(self) -> int:
        """Rows already in the ledger (re-ingested or overlapping)."""
        return self.rows_read - self.rows_added


class CostsApi:
    # Provided by Ledger.
    settings: Any
    _db: Database
    _costs: CostStore
    _portfolio: PortfolioStore
    actor: str
    _require: Callable[..., None]
    _now: Callable[[], datetime]
    _record: Callable[..., None]
    _ingest_key: Callable[[str], Any]
    _remember_key: Callable[[Any], None]

    def ingest_focus(self, paths: Sequence[Path]) -> list[IngestResult]:
        """Load FOCUS cost-and-usage exports (CSV, gzip CSV or Parquet), all or nothing. Where
        a file brings a provider's first invoice lines for a month whose usage was counted
        as an estimate, the invoice replaces the estimate: a true-up, in the audit log."""
        from valuegap.store.focus import load_focus, stage_focus

        def loader(checks_first: bool) -> StagedLoad:
            # Lines are staged converted and checked; a file with a bad value is staged again
            # as text, with the checks first, to name its rows.
            load = partial(load_focus, checks_first=checks_first)
            return self._staged(load, stage=None if checks_first else stage_focus)

        return self._checked_ingest("focus", paths, loader)

    def ingest_usage(
        self,
        path: Path,
        fmt: UsageFormat,
        mapping: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Load LLM usage events; price the new ones; pseudonymise person identifiers."""
        load = self._usage_loader(fmt, mapping, progress)
        return self._checked_ingest("usage", [path], lambda checks_first: partial(
            load, checks_first=checks_first))[0]  # fmt: skip

    def _usage_loader(
        self, fmt: UsageFormat, mapping: dict[str, str] | None, progress: Progress | None
    ) -> Callable[..., tuple[int, int]]:
        """How a usage file of ``fmt`` is loaded: ``load(path, ingest_id, checks_first=False,
        keys_only=False)`` (see ``store.usage.load_usage``)."""
        from valuegap.adoption.pseudonyms import PersonData
        from valuegap.costs.usage import LITELLM_COLUMNS, TokenCounts, UsageReading, otel_events
        from valuegap.store.staging import stage_file
        from valuegap.store.usage import load_usage, stage_events, stage_mapped

        if fmt not in ("otel", "litellm", "csv"):
            raise ValidationError(
                "Unknown usage format.", [Problem("format", "must be otel, litellm or csv", fmt)]
            )
        counts = self.settings.token_counts
        pricer = self._pricer()

        def load(
            path: Path, ingest_id: int, checks_first: bool = False, keys_only: bool = False
        ) -> tuple[int, int]:
            key = self._ingest_key(str(path))  # looked for only if the file names a person
            person = PersonData(key, self.settings.person_attributes)
            names: dict[str, str] = {}
            file_counts = counts.get(fmt, TokenCounts())
            if fmt == "otel":
                reading = UsageReading(person, counts, file_counts)
                present = stage_events(self._db, _counting(otel_events(path, reading), progress))
                file_counts = TokenCounts()  # counted in as the spans were read
            else:
                staged = stage_file(self._db, path, numbered=False)
                columns = LITELLM_COLUMNS if fmt == "litellm" else {}
                names = {f: c for f, c in columns.items() if staged.column(c)}  # what it has
                names.update(mapping or {})
                present = stage_mapped(self._db, staged, names, litellm=fmt == "litellm")
            loaded = load_usage(
                self._db,
                str(path),
                fmt,
                ingest_id,
                person,
                pricer,
                present,
                names,
                file_counts,
                checks_first=checks_first,
                keys_only=keys_only,
            )
            self._remember_key(key)
            return loaded

        return load

    def _pricer(self) -> Any:
        from valuegap.costs.pricing import Pricer

        return Pricer(self._costs.overrides(), self.settings.provider_aliases)

    def ingest_costs(self, path: Path) -> IngestResult:
        """Load manual cost entries (people, data, licences, operations, opportunity)."""
        from valuegap.costs.manual import HEADER
        from valuegap.store.manual_costs import load_manual_costs

        required = [c for c in HEADER if c != "amount"]  # people cost may give fte and a rate
        return self._ingest("costs", [path], self._staged(load_manual_costs, required=required))[0]

    def ingest_rates(self, path: Path) -> IngestResult:
        """Load currency rates ``valid_from,from_currency,to_currency,rate``."""
        from valuegap.store.manual_costs import load_rates

        required = ("valid_from", "from_currency", "to_currency", "rate")
        loader = self._staged(lambda db, staged, _: load_rates(db, staged), required=required)
        return self._ingest("rates", [path], loader)[0]

    def _staged(
        self,
        loader: Callable[[Database, Any, int], int],
        *,
        stage: Stage | None = None,
        required: Sequence[str] = (),
    ) -> StagedLoad:
        """Stage a file (as text, or by ``stage``), then ``loader(db, staged, ingest_id)``;
        ``required``: the columns a file of this kind always has (``stage_file``)."""
        return StagedLoad(self._db, loader, stage, required)

    def _checked_ingest(
        self, kind: str, paths: Sequence[Path], loader: Callable[[bool], Load]
    ) -> list[IngestResult]:
        """``_ingest`` with ``loader(checks_first)``: a loader checks each value as it inserts
        it; when one meets a bad value, nothing is stored, and the ingest runs again with the
        checks first, which name the bad rows."""
        from valuegap.store.staging import BrokenRow

        try:
            return self._ingest(kind, paths, loader(False))
        except BrokenRow:
            return self._ingest(kind, paths, loader(True))

    def _ingest(
        self,
        kind: str,
        paths: Sequence[Path],
        load: Load,
        permission: str = "cost.write",
    ) -> list[IngestResult]:
        from valuegap.store.staging import drop_stage

        self._require(permission)
        results = []
        changed: set[date] | None = set()  # the months whose cost changes (None: all)
        if paths and isinstance(load, StagedLoad):
            load.stage_ahead(Path(paths[0]))
        try:
            with self._db.transaction():
                for path in paths:
                    ingest_id = self._costs.next_ingest_id()
                    # What the ingest added to the facts' totals, for the audit log to prove.
                    table = fact_table(kind)
                    before = {} if FACTS[table].appends else read_totals(self._db, table)
                    read, added = load(Path(path), ingest_id)
                    results.append(IngestResult(kind, str(path), read, added))
                    totals = combined(read_totals(self._db, table, ingest_id), before, -1)
                    if added == 0 and not totals:
                        continue  # the same data again: nothing changes, nothing to record
                    self._costs.record_ingest(ingest_id, kind, str(path), read, added,
                                              self._now(), self.actor)  # fmt: skip
                    self._record(
                        f"ingest.{kind}",
                        "ingest",
                        str(ingest_id),
                        None,
                        {
                            "file": Path(path).name,
                            "sha256": file_sha256(Path(path)),
                            "rows_read": read,
                            "rows_added": added,
                        },
                        totals=totals,
                    )
                    if kind == "focus":
                        results[-1] = self._trued_up(results[-1], ingest_id)
                    changed = _changed_months(kind, totals, changed)
                if changed is None or changed:
                    self._refresh_aggregates(None if changed is None else sorted(changed))
                if kind == "usage" and changed:
                    self._costs.refresh_usage_by_month(sorted(changed))
        except IngestError as refused:
            if len(paths) == 1:
                raise
            raise IngestError(refused.file, refused.problems, files=len(paths)) from None
        drop_stage(self._db)
        return results

    def apply_rules(self, path: Path) -> int:
        """Validate and store allocation rules, replacing those in force; return the version."""
        import yaml

        from valuegap.costs.rules import RuleSet, check_rules
        from valuegap.portfolio.validation import validated
        from valuegap.yamlio import dump_yaml, load_yaml, read_file, yaml_problem

        self._require("rules.write")
        text = read_file(Path(path))
        try:
            data = load_yaml(text) or {}
        except yaml.YAMLError as exc:
            problem = yaml_problem(exc, str(path))
            raise ValidationError(f"{path} cannot be read as YAML.", [problem]) from exc
        rules = validated(RuleSet, data, f"{path} was refused; the rules in force are unchanged.")
        ids = {i.id for i in self._portfolio.initiatives()}
        check_rules(rules, ids, str(path))
        text = dump_yaml(rules.model_dump(exclude_none=True))
        current = self._costs.current_rules()
        if current and current[1] == text:
            return current[0]
        with self._db.transaction():
            version = self._costs.save_rules(text, self._now(), self.actor)
            self._record(
                "rules.apply",
                "rules",
                str(version),
                current and {"version": current[0]},
                {"version": version, "rules": rules.model_dump(mode="json")["rules"]},
                changed=[("allocation_rules", {"version": version})],
            )
            self._refresh_aggregates(None)
        return version

    def allocation_rules(self) -> Any:
        self._require("read")
        return self._rule_set()

    def _rule_set(self) -> Any:
        from valuegap.costs.rules import RuleSet
        from valuegap.yamlio import load_yaml

        current = self._costs.current_rules()
        return RuleSet.model_validate(load_yaml(current[1])) if current else RuleSet()

    def cost_report(
        self, by: Sequence[str], start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """Cost in the reporting currency, each dollar once, summed by ``by``: ``cost``, the
        part of it that is ``estimated`` (usage no invoice covers yet), and the usage events'
        own ``usage_cost`` beside it. Unallocated cost is shown, never hidden."""
        from valuegap.costs.allocation import report
        from valuegap.store.aggregates import DIMENSIONS as STORED

        self._require("read")
        problems = [Problem("by", f"must be one of {', '.join(DIMENSIONS)} or tag:<key>", k)
                    for k in by if k not in DIMENSIONS and not k.startswith("tag:")]  # fmt: skip
        if problems:
            raise ValidationError("The report cannot be made.", problems)
        rows = self._aggregated_report(by, start, end)
        if rows is None:
            # The parts the aggregates sum (a split rounds each part to 10 places, so a
            # coarser grain could differ in the last place), so that both give the same report.
            rows = report(self._allocated_parts([*STORED, *by]), by, start, end)
        for row in rows:
            for name in ("cost", "estimated", "usage_cost"):
                row[name] = plain(row[name])
            if "month" in row:
                row["month"] = f"{row['month']:%Y-%m}"
            row["currency"] = self.settings.reporting_currency
        return rows

    def _aggregated_report(
        self, by: Sequence[str], start: date | None, end: date | None
    ) -> list[dict[str, Any]] | None:
        """The report from the monthly aggregates, sorted as ``allocation.report`` sorts; None
        when they cannot make it (a tag in ``by``, or built with other allocation settings)."""
        from valuegap.costs.aggregates import fingerprint
        from valuegap.costs.allocation import sort_key
        from valuegap.store.aggregates import DIMENSIONS as STORED
        from valuegap.store.aggregates import AggregateStore

        store = AggregateStore(self._db)
        if any(k not in STORED for k in by) or store.built_for() != fingerprint(self.settings):
            return None
        rows = [r for r in store.summed(by, start, end) if r["cost"] is not None]
        return sorted(rows, key=lambda row: sort_key(row[k] for k in by))

    def rebuild_aggregates(self) -> int:
        """Compute the monthly cost and usage aggregates again from the facts, with the
        allocation settings in force (after changing them); returns how many rows the cost
        aggregates hold."""
        self._require("cost.write")
        with self._db.transaction():
            self._costs.refresh_usage_by_month(None)
            return self._refresh_aggregates(None)

    def _refresh_aggregates(self, months: Sequence[date] | None) -> int:
        """Compute the aggregates of ``months`` (all, if None) again, in the caller's
        transaction; all of them when they were built with other allocation settings."""
        from valuegap.costs.aggregates import aggregated, fingerprint
        from valuegap.store.aggregates import DIMENSIONS as STORED
        from valuegap.store.aggregates import AggregateStore

        store, built_for = AggregateStore(self._db), fingerprint(self.settings)
        if store.built_for() != built_for:
            months = None
        if months is not None and not months:
            return 0
        try:
            parts = self._allocated_parts(STORED, months=months)
        except ValidationError:
            # Cost that cannot be allocated yet (a currency with no rate): reports compute
            # from the facts, and say so, until a write lets every month be computed again.
            store.mark_stale()
            return 0
        return store.replace(months, aggregated(parts), built_for)

    def allocated_parts(
        self, by: Sequence[str] = (), tables: Any = None, months: Sequence[date] | None = None
    ) -> list[Any]:
        """Every cost line's allocated parts (``costs.allocation``), keeping what ``by`` looks
        at; of ``months`` only, if given; ``tables``: the facts as Ibis tables where they live
        (default: this ledger's)."""
        self._require("read")
        return self._allocated_parts(by, tables, months)

    def _allocated_parts(
        self, by: Sequence[str] = (), tables: Any = None, months: Sequence[date] | None = None
    ) -> list[Any]:
        from valuegap.costs.allocation import allocate
        from valuegap.costs.focus import COST_COLUMNS
        from valuegap.costs.rollup import keys_for, summed_lines
        from valuegap.store.engine import ibis_tables

        tables = tables if tables is not None else ibis_tables(self._db)
        rules = self._rule_set().rules
        column = COST_COLUMNS[self.settings.cost_column]
        sums = summed_lines(tables, keys_for(rules, by), column, months)
        summed = sums.to_pyarrow().to_pylist()
        return allocate(summed, self.allocation_inputs(summed, rules))

    def allocation_inputs(self, summed: Sequence[Mapping[str, Any]], rules: Sequence[Any]) -> Any:
        """What allocating ``summed`` needs: rules, the rates of its currencies and months, the
        initiatives' units, the token services and provider aliases."""
        from valuegap.costs.allocation import AllocationInputs
        from valuegap.costs.currency import monthly_rates

        reporting = self.settings.reporting_currency
        pairs = [
            (r["currency"], r["month"])
            for r in summed
            if r["currency"] not in (None, reporting) and r["amount"]
        ]
        return AllocationInputs(
            rules=rules,
            rates=monthly_rates(pairs, self._costs.rates(), reporting),
            reporting_currency=reporting,
            units={i.id: i.business_unit for i in self._portfolio.initiatives()},
            token_services=self._token_services(),
            aliases=self.settings.provider_aliases,
        )

    def _token_services(self) -> tuple[Any, ...]:
        """The organisation's token services, then the defaults."""
        from valuegap.costs.providers import TOKEN_SERVICES

        return (*self.settings.token_services, *TOKEN_SERVICES)

    def reconcile(self, tolerance: Decimal = Decimal("0.05")) -> list[dict[str, Any]]:
        """Computed usage cost against the invoiced token services, per provider and month,
        with what explains the gap."""
        from valuegap.costs.reconcile import reconcile

        self._require("read")
        invoice, usage = self._costs.invoice_lines(), self._costs.usage_by_month()
        return reconcile(
            invoice,
            usage,
            self._converter(),
            self._token_services(),
            self.settings.provider_aliases,
            self._costs.overrides(),
            tolerance,
            self.settings.reporting_currency,
        )

    def _converter(self) -> Callable[[Decimal, str | None, date], Decimal]:
        """amount, currency, month -> the amount in the reporting currency."""
        from valuegap.costs.currency import monthly_rates

        reporting = self.settings.reporting_currency
        table = self._costs.rates()

        def convert(amount: Decimal, currency: str | None, month: date) -> Decimal:
            if not amount or currency in (None, reporting):
                return Decimal(amount)
            assert currency is not None
            rate = monthly_rates([(currency, month)], table, reporting)[(currency, month)]
            return Decimal(amount) * rate

        return convert

    def _trued_up(self, result: IngestResult, ingest_id: int) -> IngestResult:
        """``result`` with the true-ups ingest ``ingest_id`` made, recorded in the audit log."""
        from valuegap.costs.focus import COST_COLUMNS
        from valuegap.costs.providers import catalogue_id
        from valuegap.costs.trueup import invoiced_pools, true_ups

        services, aliases = self._token_services(), self.settings.provider_aliases
        used: dict[str, list[str]] = {}  # the keys of the providers with usage, and their names
        for name in self._costs.usage_providers():
            used.setdefault(catalogue_id(name, aliases) or "(none)", []).append(name)
        new = invoiced_pools(self._costs.services_of(ingest_id), services, aliases)
        pools = {pool for pool in new if pool[0] in used}
        if not pools:
            return result
        months = sorted({month for _, month in pools})
        column = COST_COLUMNS[self.settings.cost_column]
        lines = self._costs.lines_of_months(months, ingest_id, column)
        providers = [name for key, _ in pools for name in used[key]]
        found = true_ups(lines, self._costs.usage_by_month(months, providers), services, aliases)
        if not found:
            return result
        after = {"true_ups": [t.as_dict() for t in found]}
        self._record("costs.true_up", "ingest", str(ingest_id), None, after)
        return replace(result, true_ups=tuple(found))


def _changed_months(kind: str, totals: Any, changed: set[date] | None) -> set[date] | None:
    """``changed`` with the months whose cost an ingest of ``kind`` changed (None: all of
    them, as new rates may convert any month)."""
    from valuegap.costs.aggregates import months_of

    if kind == "rates" or changed is None:
        return None
    if kind not in ("focus", "usage", "costs"):
        return changed
    return changed | set(months_of(totals))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as given (before any unzipping)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _counting(
    events: Iterable[tuple[int, dict[str, Any]]], progress: Progress | None
) -> Iterable[tuple[int, dict[str, Any]]]:
    for count, event in enumerate(events, start=1):
        if progress and count % 10_000 == 0:
            progress(count)
        yield event


class StagedLoad:
    """Stage a file, then load it: ``(rows read, rows added)``. Rows staged inside a
    transaction are its own and are read more slowly (a FOCUS INSERT takes almost twice as
    long), so an ingest stages its first file before its transaction begins; a stage is a
    temporary table, so nothing of the ledger is written outside the transaction."""

    def __init__(
        self,
        db: Database,
        loader: Callable[[Database, Any, int], int],
        stage: Stage | None,
        required: Sequence[str] = (),
    ) -> None:
        self._db, self._loader, self._stage_as = db, loader, stage
        self._required = required
        self._ahead: dict[Path, Any] = {}

    def stage_ahead(self, path: Path) -> None:
        self._ahead[path] = self._stage(path)

    def __call__(self, path: Path, ingest_id: int) -> tuple[int, int]:
        staged = self._ahead.pop(path, None) or self._stage(path)
        return staged.rows or 0, self._loader(self._db, staged, ingest_id)

    def _stage(self, path: Path) -> Any:
        from valuegap.store.staging import stage_file

        if self._stage_as is not None:
            return self._stage_as(self._db, path)
        return stage_file(self._db, path, required=self._required)

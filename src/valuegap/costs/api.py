"""The costs part of the ledger (``ledger.costs``): ingest, allocation rules, reports,
reconciliation; with organisation prices (``ledger.costs.prices``, ``prices_api.py``) and the
removal of wrong lines (``ledger.costs.removal``, ``removal.py``) and the OTLP inbox
(``ledger.costs.inbox``, ``inbox.py``), and daily spend, forecasts and anomalies
(``ledger.costs.spend``, ``spend_api.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from valuegap.costs.allocation import (
    AllocatedPart,
    AllocationInputs,
    allocate,
    report,
)
from valuegap.costs.calls import InitiativeCalls, initiative_calls
from valuegap.costs.cost_report import CostLine, cost_lines
from valuegap.costs.reconcile import ReconcileLine
from valuegap.costs.rules import Rule, RuleSet, keys_for, read_stored_rules, stored_rules
from valuegap.costs.scope import CostScope, cost_scope
from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.model.ingest import IngestResult as IngestResult
from valuegap.model.pricing import Pricer
from valuegap.model.providers import TokenService
from valuegap.model.usage import UsageFormat
from valuegap.months import check_window, month_start
from valuegap.records import record
from valuegap.session import Part, Permission, Session, built_on_first_use
from valuegap.sources import Input, Source, opened
from valuegap.store.aggregates import DIMENSIONS
from valuegap.store.costs import CostStore
from valuegap.store.database import Database
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.proof import FACTS, combined, fact_table, read_totals
from valuegap.store.writer import writes
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.adoption.key_api import PseudonymKeys
    from valuegap.costs.alerts import Alerts, RaisedAlert
    from valuegap.costs.budgets import Budgets
    from valuegap.costs.inbox import SpanInbox
    from valuegap.costs.prices_api import Prices
    from valuegap.costs.removal import CostRemoval
    from valuegap.costs.sources_api import Sources
    from valuegap.costs.spend_api import Spend
    from valuegap.costs.spend_results import ForecastLine
    from valuegap.costs.usage import ReadSpan

Progress = Callable[[int], None]
Load = Callable[[Input, int], tuple[int, int]]  # (source, ingest id) -> (rows read, rows added)
Stage = Callable[[Database, Input], Any]  # how a file is staged: (ledger, source) -> Staged
Tables = Mapping[str, Any]  # the facts' tables, as Ibis tables where they live


@record
class SpanIngest:
    """GenAI spans loaded as usage, each on its own: ``spans`` given, ``added`` new events
    (a span already stored adds none), and the spans ``refused`` for a bad value (each problem
    names the span by its position, ``row``, from 1), which stored nothing."""

    spans: int
    added: int
    refused: tuple[Problem, ...] = ()

    @property
    def rejected(self) -> int:
        """How many spans were refused (a span may have more than one problem)."""
        return len({problem.row for problem in self.refused})


# How many times a batch of spans is loaded again without the spans found bad (the checks
# name the first bad span of each check); past that, the batch is refused whole.
MAX_SPAN_RETRIES = 16


class Costs(Part):
    """What the organisation spends on AI, and on what. Person identifiers in usage are
    pseudonymised with the key ``keys()`` checks (built when an ingest first needs it)."""

    def __init__(self, session: Session, keys: Callable[[], PseudonymKeys]) -> None:
        super().__init__(session)
        self._costs = CostStore(session.db)
        self._portfolio = PortfolioStore(session.db)
        self._keys = keys
        self._building = threading.RLock()

    # Its sub-parts, each built on first use (a report needs neither).

    @built_on_first_use
    def prices(self) -> Prices:
        from valuegap.costs.prices_api import Prices

        return Prices(self._session, self.refresh_aggregates)

    @built_on_first_use
    def removal(self) -> CostRemoval:
        from valuegap.costs.removal import CostRemoval

        return CostRemoval(self._session, self)

    @built_on_first_use
    def spend(self) -> Spend:
        from valuegap.costs.spend_api import Spend

        return Spend(self._session, self, self._converter())

    @built_on_first_use
    def sources(self) -> Sources:
        from valuegap.costs.sources_api import Sources

        return Sources(self._session, self)

    @built_on_first_use
    def inbox(self) -> SpanInbox:
        from valuegap.costs.inbox import SpanInbox

        return SpanInbox(self._session)

    @built_on_first_use
    def alerts(self) -> Alerts:
        from valuegap.costs.alerts import Alerts

        return Alerts(self._session, self._spend_alerts)

    @built_on_first_use
    def budgets(self) -> Budgets:
        from valuegap.costs.budgets import Budgets

        return Budgets(
            self._session, self._monthly_cost, self._rate, self.alerts, self._forecast_of
        )

    def _spend_alerts(self, day: date) -> list[RaisedAlert]:
        """What ``alerts.check`` raises as of ``day``: the findings of daily spend, and the
        budgets forecast above their amount."""
        from valuegap.costs.spend_alerts import finding_alert

        found = [finding_alert(finding) for finding in self.spend.findings(day)]
        return [*found, *self.budgets.forecast_alerts(day)]

    def _forecast_of(
        self, by: str, start: date, months: int, as_of: date
    ) -> dict[str | None, ForecastLine]:
        """Each value of ``by``'s spend forecast for ``months`` months from ``start``."""
        forecast = self.spend.forecast([by], start, months, as_of, every_unit=True)
        return {getattr(line, by): line for line in forecast.lines}

    def ingest_focus(
        self, sources: Sequence[Source], source_names: Sequence[str | None] = ()
    ) -> list[IngestResult]:
        """Load FOCUS cost-and-usage exports (CSV, gzip CSV or Parquet; each a path, bytes or
        a binary stream, named in messages by ``source_names``), all or nothing. Where a file
        brings a provider's first invoice lines for a month whose usage was counted as an
        estimate, the invoice replaces the estimate: a true-up, in the audit log."""
        from valuegap.store.focus import load_focus, stage_focus

        def loader(checks_first: bool) -> StagedLoad:
            # Lines are staged converted and checked; a file with a bad value is staged again
            # as text, with the checks first, to name its rows.
            load = partial(load_focus, checks_first=checks_first)
            return self.staged_loader(load, stage=None if checks_first else stage_focus)

        return self._checked_ingest("focus", sources, loader, source_names)

    def ingest_usage(
        self,
        source: Source,
        fmt: UsageFormat | None = None,
        mapping: dict[str, str] | None = None,
        progress: Progress | None = None,
        *,
        source_name: str | None = None,
    ) -> IngestResult:
        """Load LLM usage events (a path, bytes, a binary stream, or for ``otel`` an OTLP/JSON
        document in memory); price the new ones; pseudonymise person identifiers. ``fmt``
        (otel, litellm or csv) is told from the content when not given (``usage_format``)."""
        from valuegap.costs.usage_format import usage_format

        self._require("cost.write")  # before a stream is copied
        with opened(source, source_name, documents=fmt in (None, "otel")) as given:
            fmt = fmt or usage_format(given, mapping)
            load = self.usage_loader(fmt, mapping, progress)
            results = self._checked_ingest(
                "usage",
                [given],
                lambda checks_first: partial(load, checks_first=checks_first),
                documents=fmt == "otel",
            )
        return results[0]

    def ingest_spans(
        self,
        spans: Sequence[Mapping[str, Any] | ReadSpan],
        *,
        source_name: str = "otlp",
        digest: str | None = None,
    ) -> SpanIngest:
        """Load GenAI spans, each an OTLP/JSON document of one span or a span read from an
        OTLP export (``otlp.read_spans``), as ``ingest_usage`` loads OpenTelemetry usage, in
        one transaction; but a span with a bad value (a negative token count, no start time)
        is refused alone, and the others are stored. ``digest``: the SHA-256 of the exports
        they came from, for the audit log (else that of the documents' JSON text). Raises
        ``IngestError`` (nothing stored) when every span is bad, when a problem names no span,
        or after ``MAX_SPAN_RETRIES`` loads that each met other bad spans."""
        if not spans:
            return SpanIngest(0, 0)
        kept = list(range(1, len(spans) + 1))  # the positions still to load
        refused: list[Problem] = []
        for _ in range(MAX_SPAN_RETRIES + 1):
            try:
                given = Input(source_name, document=[spans[n - 1] for n in kept], digest=digest)
                result = self.ingest_usage(given, "otel")
            except IngestError as error:
                rows = {p.row for p in error.problems}
                if None in rows or not rows <= set(range(1, len(kept) + 1)):
                    raise
                for p in error.problems:
                    at = kept[(p.row or 0) - 1]  # its position in ``spans``
                    refused.append(
                        IngestError.at(source_name, at, p.column or "", p.value, p.message)
                    )
                kept = [n for row, n in enumerate(kept, start=1) if row not in rows]
                if not kept:
                    break  # every span refused: the whole batch is
                continue
            return SpanIngest(len(spans), result.rows_added, tuple(refused))
        raise IngestError(source_name, refused)

    def usage_loader(
        self, fmt: UsageFormat, mapping: dict[str, str] | None, progress: Progress | None
    ) -> Callable[..., tuple[int, int]]:
        """How a usage file of ``fmt`` is loaded: ``load(path, ingest_id, checks_first=False,
        keys_only=False)`` (see ``store.usage.load_usage``)."""
        from valuegap.adoption.keys import throwaway_key
        from valuegap.costs.usage import LITELLM_COLUMNS, UsageReading, otel_events
        from valuegap.model.pseudonyms import PersonData
        from valuegap.model.usage import TokenCounts
        from valuegap.store.staging import stage_file
        from valuegap.store.usage import load_usage, stage_events, stage_mapped

        if fmt not in ("otel", "litellm", "csv"):
            raise ValidationError(
                "Unknown usage format.", [Problem("fmt", "must be otel, litellm or csv", fmt)]
            )
        counts = self.settings.token_counts
        pricer = self._pricer()

        def load(
            source: Input, ingest_id: int, checks_first: bool = False, keys_only: bool = False
        ) -> tuple[int, int]:
            key = self._keys().ingest_key(source.name)  # looked for only if the file names a person
            # An event's key holds no person data: finding it (keys_only) needs no key.
            found = throwaway_key if keys_only else key
            person = PersonData(found, self.settings.person_attributes)
            names: dict[str, str] = {}
            file_counts = counts.get(fmt, TokenCounts())
            if fmt == "otel":
                reading = UsageReading(person, counts, file_counts)
                events = _counting(otel_events(source, reading), progress)
                present = stage_events(self._db, events)
                file_counts = TokenCounts()  # counted in as the spans were read
            else:
                staged = stage_file(self._db, source, numbered=False)
                columns = LITELLM_COLUMNS if fmt == "litellm" else {}
                names = {f: c for f, c in columns.items() if staged.column(c)}  # what it has
                names.update(mapping or {})
                present = stage_mapped(self._db, staged, names, litellm=fmt == "litellm")
            loaded = load_usage(
                self._db,
                source,
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
            if not keys_only:
                self._keys().remember_key(key)
            return loaded

        return load

    def _pricer(self) -> Pricer:
        return Pricer(self._costs.overrides(), self.settings.provider_aliases)

    def has_sources(self) -> bool:
        """Whether the ledger has external sources (``sources``)."""
        from valuegap.store.sources import SourceStore

        return SourceStore(self._db).any()

    def pricer(self) -> Pricer:
        """What prices usage: the organisation's prices, then the catalogue's."""
        return self._pricer()

    def cost_column(self) -> str:
        """The column of ``focus_lines`` that reports read (the setting ``cost_column``)."""
        from valuegap.model.focus import COST_COLUMNS

        return COST_COLUMNS[self.settings.cost_column]

    def external_keys(self) -> list[str]:
        """What an external source's partitions are summed by: every key a report or the
        allocation rules look at (``external_sums.LINE_KEYS`` and the rules' tags)."""
        from valuegap.costs.external_sums import LINE_KEYS

        return keys_for(self._rule_set().rules, LINE_KEYS)

    def ingest_costs(self, source: Source, *, source_name: str | None = None) -> IngestResult:
        """Load manual cost entries (people, data, licences, operations, opportunity) from a
        path, bytes or a binary stream (named in messages by ``source_name``)."""
        from valuegap.model.manual import HEADER
        from valuegap.store.manual_costs import load_manual_costs

        required = [c for c in HEADER if c != "amount"]  # people cost may give fte and a rate
        loader = self.staged_loader(load_manual_costs, required=required)
        return self.ingest_files("costs", [source], loader, names=[source_name])[0]

    def ingest_rates(self, source: Source, *, source_name: str | None = None) -> IngestResult:
        """Load currency rates ``valid_from,from_currency,to_currency,rate`` (a path, bytes
        or a binary stream)."""
        from valuegap.store.manual_costs import load_rates

        required = ("valid_from", "from_currency", "to_currency", "rate")
        loader = self.staged_loader(lambda db, staged, _: load_rates(db, staged), required=required)
        return self.ingest_files("rates", [source], loader, names=[source_name])[0]

    def staged_loader(
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
        self,
        kind: str,
        sources: Sequence[Source],
        loader: Callable[[bool], Load],
        names: Sequence[str | None] = (),
        *,
        documents: bool = False,
    ) -> list[IngestResult]:
        """``ingest_files`` with ``loader(checks_first)``: a loader checks each value as it inserts
        it; when one meets a bad value, nothing is stored, and the ingest runs again with the
        checks first, which name the bad rows."""
        from valuegap.store.staging import BrokenRow

        self._require("cost.write")  # before a stream is copied
        with ExitStack() as stack:
            inputs = _opened(stack, sources, names, documents)
            try:
                return self.ingest_files(kind, inputs, loader(False))
            except BrokenRow:
                return self.ingest_files(kind, inputs, loader(True))

    @writes
    def ingest_files(
        self,
        kind: str,
        sources: Sequence[Source],
        load: Load,
        permission: Permission = "cost.write",
        names: Sequence[str | None] = (),
    ) -> list[IngestResult]:
        """Load each of ``sources`` (named in messages by ``names``) with ``load``, all in one
        transaction."""
        from valuegap.store.staging import drop_stage

        self._require(permission)
        with ExitStack() as stack:
            inputs = _opened(stack, sources, names, documents=False)
            results = self._ingest_inputs(kind, inputs, load)
        drop_stage(self._db)
        return results

    def _ingest_inputs(self, kind: str, inputs: Sequence[Input], load: Load) -> list[IngestResult]:
        results = []
        changed: set[date] | None = set()  # the months whose cost changes (None: all)
        adding: list[int] = []  # the ingests that added rows
        # The ingests' audit entries, appended once the sums are made: from its first entry
        # until it commits, a write holds the audit chain, and agents' decisions wait.
        entries: list[Callable[[], None]] = []
        if inputs and isinstance(load, StagedLoad):
            load.stage_ahead(inputs[0])
        try:
            with self._db.transaction():
                for source in inputs:
                    ingest_id = self._costs.next_ingest_id()
                    # What the ingest added to the facts' totals, for the audit log to prove.
                    table = fact_table(kind)
                    before = {} if FACTS[table].appends else read_totals(self._db, table)
                    read, added = load(source, ingest_id)
                    results.append(IngestResult(kind, source.name, read, added))
                    totals = combined(read_totals(self._db, table, ingest_id), before, -1)
                    if added == 0 and not totals:
                        continue  # the same data again: nothing changes, nothing to record
                    self._costs.record_ingest(ingest_id, kind, source.name, read, added,
                                              self._now(), self.actor)  # fmt: skip
                    after = {
                        "file": source.base_name,
                        "sha256": source.sha256(),
                        "rows_read": read,
                        "rows_added": added,
                    }
                    entries.append(
                        partial(
                            self._record,
                            f"ingest.{kind}",
                            "ingest",
                            str(ingest_id),
                            None,
                            after,
                            totals=totals,
                        )
                    )
                    if kind == "focus":  # its true-up's entry follows the ingest's
                        _append(entries)
                        results[-1] = self._trued_up(results[-1], ingest_id)
                    changed = _changed_months(kind, totals, changed)
                    adding.append(ingest_id)
                if changed is None or changed:
                    self.refresh_aggregates(None if changed is None else sorted(changed))
                if kind == "usage" and adding:  # usage is only added to: its sums too
                    self._costs.add_usage_of_ingests(adding[0], adding[-1])
                _append(entries)
        except IngestError as refused:
            if len(inputs) == 1:
                raise
            raise IngestError(refused.file, refused.problems, files=len(inputs)) from None
        return results

    @writes
    def apply_rules(self, source: Source, *, source_name: str | None = None) -> int:
        """Validate and store allocation rules (a YAML file: a path, bytes or a binary stream,
        named in messages by ``source_name``), replacing those in force; return the version."""
        import yaml

        from valuegap.costs.rules import check_rules
        from valuegap.inputs import read_text
        from valuegap.portfolio.validation import validated
        from valuegap.yamlio import dump_yaml, load_yaml, yaml_problem

        self._require("rules.write")
        with opened(source, source_name) as found:
            path = found.name
            text = read_text(found.file, path)
        try:
            data = load_yaml(text) or {}
        except yaml.YAMLError as exc:
            problem = yaml_problem(exc, str(path))
            raise ValidationError(f"{path} cannot be read as YAML.", [problem]) from exc
        rules = validated(RuleSet, data, f"{path} was refused; the rules in force are unchanged.")
        ids = {i.id for i in self._portfolio.initiatives()}
        check_rules(rules, ids, str(path))
        text = stored_rules(rules)
        current = self._costs.current_rules()
        # The same rules stored as earlier versions wrote them (YAML) are unchanged too.
        if current and current[1] in (text, dump_yaml(rules.model_dump(exclude_none=True))):
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
            self.refresh_aggregates(None)
        return version

    def allocation_rules(self) -> RuleSet:
        """The allocation rules in force, in the order they are tried."""
        self._require("read")
        return self._rule_set()

    def _rule_set(self) -> RuleSet:
        """The rules in force, read (and their YAML parsed) once between writes."""

        def read() -> RuleSet:
            current = self._costs.current_rules()
            return read_stored_rules(current[1]) if current else RuleSet()

        return self._db.cached("rule_set", read, frozenset({"allocation_rules"}))

    def cost_report(
        self,
        by: Sequence[str],
        start: date | None = None,
        end: date | None = None,
        *,
        every_unit: bool = False,
    ) -> list[CostLine]:
        """Cost in the reporting currency, each dollar once, summed by ``by``: ``cost``, the
        part of it that is ``estimated`` (usage no invoice covers yet), and the usage events'
        own ``usage_cost`` beside it. Unallocated cost is shown, never hidden. A
        contributor's report holds their business units' cost only (costs/scope.py), unless
        ``every_unit``: for a caller that shows every unit on purpose or scopes it itself."""
        self._require("read")
        problems = [Problem("by", f"must be one of {', '.join(DIMENSIONS)} or tag:<key>", k)
                    for k in by if k not in DIMENSIONS and not k.startswith("tag:")]  # fmt: skip
        if problems:
            raise ValidationError("The report cannot be made.", problems)
        check_window(start, end)
        scope = None if every_unit else cost_scope(self._session)
        rows = self._aggregated_report(by, start, end, scope)
        if rows is None:
            # The parts the aggregates sum (a split rounds each part to 10 places, so a
            # coarser grain could differ in the last place), so that both give the same report.
            parts = self._allocated_parts([*DIMENSIONS, *by])
            if scope is not None:
                parts = [p for p in parts if scope.sees(p.business_unit, p.initiative)]
            rows = report(parts, by, start, end)
        return cost_lines(rows, by, self.settings.reporting_currency)

    def _aggregated_report(
        self, by: Sequence[str], start: date | None, end: date | None, scope: CostScope | None
    ) -> list[dict[str, Any]] | None:
        """The report from the monthly aggregates, sorted as ``allocation.report`` sorts; None
        when they cannot make it (a tag in ``by``, or built with other allocation settings)."""
        from valuegap.costs.aggregates import fingerprint
        from valuegap.store.aggregates import AggregateStore

        store = AggregateStore(self._db)
        if any(k not in DIMENSIONS for k in by) or store.built_for() != fingerprint(self.settings):
            return None
        within = None if scope is None else (scope.units, scope.initiatives)
        return [r for r in store.summed(by, start, end, within) if r["cost"] is not None]

    def rebuild_aggregates(self) -> int:
        """Compute the monthly cost and usage aggregates again from the facts, with the
        allocation settings in force (after changing them); returns how many rows the cost
        aggregates hold."""
        self._require("cost.write")
        with self._db.transaction():
            return self.build_aggregates()

    def build_aggregates(self) -> int:
        """Compute every monthly cost and usage aggregate from the facts, in the caller's
        transaction, with no permission asked: they are derived from the facts (a ledger from
        before them gets them when it is opened). Returns how many rows the cost aggregates
        hold."""
        self._costs.refresh_usage_by_month(None)
        return self.refresh_aggregates(None)

    def start_aggregates(self) -> None:
        """A new ledger's aggregates: none, as there are no facts, kept from now on with the
        allocation settings in force (in the caller's transaction)."""
        from valuegap.costs.aggregates import fingerprint
        from valuegap.store.aggregates import AggregateStore

        AggregateStore(self._db).replace(None, [], fingerprint(self.settings))
        self._costs.refresh_usage_by_month(None)

    def refresh_aggregates(self, months: Sequence[date] | None) -> int:
        """Compute the cost aggregates of ``months`` (all, if None) again, in the caller's
        transaction; all of them when they were built with other allocation settings. Every
        write that changes cost calls it, also another part's (``Initiatives.apply``, when an
        initiative moves to another business unit)."""
        from valuegap.costs.aggregates import aggregated, fingerprint
        from valuegap.store.aggregates import AggregateStore

        store, built_for = AggregateStore(self._db), fingerprint(self.settings)
        if store.built_for() != built_for:
            months = None
        if months is not None and not months:
            return 0
        try:
            parts = self._allocated_parts(DIMENSIONS, months=months)
        except ValidationError:
            # Cost that cannot be allocated yet (a currency with no rate): reports compute
            # from the facts, and say so, until a write lets every month be computed again.
            store.mark_stale()
            return 0
        rows = store.replace(months, aggregated(parts), built_for)
        self.budgets.refresh(months)  # budgets' spend, and the thresholds it reaches
        return rows

    def _monthly_cost(
        self, by: str, months: Sequence[date]
    ) -> dict[tuple[date, str | None], Decimal]:
        """(month, value of ``by``) -> allocated cost, for ``months``: from the aggregates
        where they hold ``by``, else allocated again for those months (a tag, an API key)."""
        from valuegap.costs.aggregates import fingerprint
        from valuegap.months import next_month
        from valuegap.store.aggregates import AggregateStore

        if not months:
            return {}
        store = AggregateStore(self._db)
        if by in DIMENSIONS and store.built_for() == fingerprint(self.settings):
            rows = store.summed(["month", by], min(months), next_month(max(months)))
        else:
            rows = report(self._allocated_parts(["month", by], months=months), ["month", by])
        wanted = set(months)
        return {
            (row["month"], row[by]): row["cost"]
            for row in rows
            if row["month"] in wanted and row["cost"] is not None
        }

    def _rate(self, currency: str, month: date) -> Decimal:
        """The rate from ``currency`` into the reporting currency of ``month``, as cost of that
        month is converted."""
        from valuegap.costs.currency import monthly_rates

        reporting = self.settings.reporting_currency
        if currency == reporting:
            return Decimal(1)
        return monthly_rates([(currency, month)], self._costs.rates(), reporting)[(currency, month)]

    def allocated_parts(
        self,
        by: Sequence[str] = (),
        tables: Tables | None = None,
        months: Sequence[date] | None = None,
    ) -> list[AllocatedPart]:
        """Every cost line's allocated parts (``costs.allocation``), keeping what ``by`` looks
        at; of ``months`` only, if given; ``tables``: the facts as Ibis tables where they live
        (default: this ledger's)."""
        self._require("read")
        return self._allocated_parts(by, tables, months)

    def calls_by_initiative(self, month: date) -> list[InitiativeCalls]:
        """The LLM calls of ``month`` (the month of that day) that the allocation rules give to
        initiatives, as they give their cost: requests and each kind of token, by initiative,
        provider and model (``costs.calls``)."""
        self._require("read")
        summed, parts = self._allocation(["model"], None, [month_start(month)], token_kinds=True)
        return initiative_calls(summed, parts)

    def _allocated_parts(
        self,
        by: Sequence[str] = (),
        tables: Tables | None = None,
        months: Sequence[date] | None = None,
    ) -> list[AllocatedPart]:
        return self._allocation(by, tables, months)[1]

    def _allocation(
        self,
        by: Sequence[str],
        tables: Tables | None,
        months: Sequence[date] | None,
        *,
        token_kinds: bool = False,
    ) -> tuple[list[dict[str, Any]], list[AllocatedPart]]:
        """The summed lines (``rollup.summed_lines``) and their allocated parts. The ledger's
        own facts are summed by the same query written for DuckDB (``store.cost_lines``),
        which spares a command Ibis; ``tables`` elsewhere go through Ibis."""
        from valuegap.model.focus import COST_COLUMNS

        rules = self._rule_set().rules
        column = COST_COLUMNS[self.settings.cost_column]
        keys = keys_for(rules, by)
        if tables is not None:
            from valuegap.costs.rollup import summed_lines

            sums = summed_lines(tables, keys, column, months, token_kinds=token_kinds)
            summed = sums.to_pyarrow().to_pylist()
        else:
            from valuegap.store import cost_lines

            summed = cost_lines.summed_lines(
                self._db, keys, column, months, token_kinds=token_kinds
            )
            summed += self._external_sums(keys, months, token_kinds)
        return summed, allocate(summed, self._allocation_inputs(summed, rules))

    def _external_sums(
        self, keys: Sequence[str], months: Sequence[date] | None, token_kinds: bool
    ) -> list[dict[str, Any]]:
        """The external sources' stored sums as summed lines by ``keys``."""
        from valuegap.costs.external_sums import stored_sums
        from valuegap.store.sources import SourceStore

        stored = SourceStore(self._db).sums(months)
        if not stored:
            return []
        return stored_sums(stored, keys, token_kinds=token_kinds)

    def _allocation_inputs(
        self, summed: Sequence[Mapping[str, Any]], rules: Sequence[Rule]
    ) -> AllocationInputs:
        """What allocating ``summed`` needs: rules, the rates of its currencies and months, the
        initiatives' units, the token services and provider aliases."""
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

    def _token_services(self) -> tuple[TokenService, ...]:
        """The organisation's token services, then the defaults."""
        from valuegap.model.providers import TOKEN_SERVICES

        return (*self.settings.token_services, *TOKEN_SERVICES)

    def reconcile(self, tolerance: Decimal = Decimal("0.05")) -> list[ReconcileLine]:
        """Computed usage cost against the invoiced token services, per provider and month,
        with what explains the gap."""
        from valuegap.costs.reconcile import reconcile

        self._require("read")
        if tolerance < 0:
            said = "must be zero or more: the share of a gap to flag"
            raise ValidationError(
                "The reconciliation cannot be made.", [Problem("tolerance", said, tolerance)]
            )
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
        from valuegap.costs.trueup import invoiced_pools, true_ups
        from valuegap.model.focus import COST_COLUMNS
        from valuegap.model.providers import catalogue_id

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


def _opened(
    stack: ExitStack, sources: Sequence[Source], names: Sequence[str | None], documents: bool
) -> list[Input]:
    """``sources`` ready to read until ``stack`` closes."""
    given = list(names) or [None] * len(sources)
    if len(given) != len(sources):
        problem = Problem(
            "source_names",
            f"gives {counted(len(given), 'name')} for {counted(len(sources), 'source')}",
        )
        raise ValidationError("Nothing was ingested.", [problem])
    return [
        stack.enter_context(opened(source, name, documents=documents))
        for source, name in zip(sources, given, strict=True)
    ]


def _append(entries: list[Callable[[], None]]) -> None:
    """Append the entries waiting, in order."""
    while entries:
        entries.pop(0)()


def _changed_months(kind: str, totals: Any, changed: set[date] | None) -> set[date] | None:
    """``changed`` with the months whose cost an ingest of ``kind`` changed (None: all of
    them, as new rates may convert any month)."""
    from valuegap.costs.aggregates import months_of

    if kind == "rates" or changed is None:
        return None
    if kind not in ("focus", "usage", "costs"):
        return changed
    return changed | set(months_of(totals))


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
        self._ahead: tuple[Input, Any] | None = None

    def stage_ahead(self, source: Input) -> None:
        self._ahead = (source, self._stage(source))

    def __call__(self, source: Input, ingest_id: int) -> tuple[int, int]:
        ahead, self._ahead = self._ahead, None
        staged = ahead[1] if ahead and ahead[0] is source else self._stage(source)
        return staged.rows or 0, self._loader(self._db, staged, ingest_id)

    def _stage(self, source: Input) -> Any:
        from valuegap.store.staging import stage_file

        if self._stage_as is not None:
            return self._stage_as(self._db, source)
        return stage_file(self._db, source, required=self._required)

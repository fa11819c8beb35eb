"""The cost side of ``Ledger``: ingest, prices, allocation rules, reports, reconciliation.

``Ledger`` inherits this; it is kept apart so that each file stays about one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal

from valuegap.decimals import plain
from valuegap.errors import IngestError, Problem, ValidationError
from valuegap.store.costs import CostStore
from valuegap.store.database import Database
from valuegap.store.portfolio import PortfolioStore

UsageFormat = Literal["otel", "litellm", "csv"]
Progress = Callable[[int], None]
Load = Callable[[Path, int], tuple[int, int]]  # (file, ingest id) -> (rows read, rows added)


@dataclass(frozen=True)
class IngestResult:
    kind: str
    file: str
    rows_read: int
    rows_added: int

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
    _record: Callable[[str, str, str, Any, Any], None]

    def ingest_focus(self, paths: Sequence[Path]) -> list[IngestResult]:
        """Load FOCUS cost-and-usage exports (CSV, gzip CSV or Parquet), all or nothing."""
        from valuegap.store.focus import load_focus

        return self._checked_ingest("focus", paths, lambda checks_first: self._staged(
            partial(load_focus, checks_first=checks_first), hashed=True))  # fmt: skip

    def ingest_usage(
        self,
        path: Path,
        fmt: UsageFormat,
        mapping: dict[str, str] | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Load LLM usage events; price the new ones; pseudonymise person identifiers."""
        from valuegap.adoption.pseudonyms import load_key, pseudonym
        from valuegap.costs.pricing import catalogue_rates
        from valuegap.costs.usage import LITELLM_COLUMNS, otel_events
        from valuegap.store.staging import stage_file
        from valuegap.store.usage import load_usage, stage_events, stage_mapped

        if fmt not in ("otel", "litellm", "csv"):
            raise ValidationError("Unknown usage format.", [
                Problem("--format", "must be otel, litellm or csv", fmt)])  # fmt: skip
        key = load_key(self._db.path)

        def load(path: Path, ingest_id: int, checks_first: bool = False) -> tuple[int, int]:
            names: dict[str, str] = {}
            if fmt == "otel":
                present = stage_events(self._db, _counting(otel_events(path), progress))
            else:
                staged = stage_file(self._db, path, numbered=False)
                columns = LITELLM_COLUMNS if fmt == "litellm" else {}
                names = {**columns, **(mapping or {})}
                present = stage_mapped(self._db, staged, names, litellm=fmt == "litellm")
            return load_usage(
                self._db,
                str(path),
                fmt,
                ingest_id,
                lambda person: pseudonym(key, person),
                catalogue_rates,
                present,
                names,
                checks_first=checks_first,
            )

        return self._checked_ingest("usage", [path], lambda checks_first: partial(
            load, checks_first=checks_first))[0]  # fmt: skip

    def ingest_costs(self, path: Path) -> IngestResult:
        """Load manual cost entries (people, data, licences, operations, opportunity)."""
        from valuegap.store.manual_costs import load_manual_costs

        return self._ingest("costs", [path], self._staged(load_manual_costs))[0]

    def ingest_rates(self, path: Path) -> IngestResult:
        """Load currency rates ``valid_from,from_currency,to_currency,rate``."""
        from valuegap.store.manual_costs import load_rates

        loader = self._staged(lambda db, staged, _: load_rates(db, staged))
        return self._ingest("rates", [path], loader)[0]

    def _staged(
        self, loader: Callable[[Database, Any, int], int], *, hashed: bool = False
    ) -> StagedLoad:
        """Stage a file (``hashed``: with each row's content hash), then ``loader(db, staged,
        ingest_id)``."""
        return StagedLoad(self._db, loader, hashed)

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
        if paths and isinstance(load, StagedLoad):
            load.stage_ahead(Path(paths[0]))
        try:
            with self._db.transaction():
                for path in paths:
                    ingest_id = self._costs.next_ingest_id()
                    read, added = load(Path(path), ingest_id)
                    results.append(IngestResult(kind, str(path), read, added))
                    if added == 0:
                        continue  # the same data again: nothing changes, nothing to record
                    self._costs.record_ingest(ingest_id, kind, str(path), read, added,
                                              self._now(), self.actor)  # fmt: skip
                    self._record(
                        f"ingest.{kind}",
                        "ingest",
                        str(ingest_id),
                        None,
                        {"file": Path(path).name, "rows_read": read, "rows_added": added},
                    )
        except IngestError as refused:
            if len(paths) == 1:
                raise
            raise IngestError(refused.file, refused.problems, files=len(paths)) from None
        drop_stage(self._db)
        return results

    # Prices

    def set_price(
        self,
        model: str,
        *,
        input_per_mtok: Decimal,
        output_per_mtok: Decimal,
        valid_from: date,
        cache_read_per_mtok: Decimal | None = None,
        cache_write_per_mtok: Decimal | None = None,
    ) -> int:
        """An organisation price for ``model`` from ``valid_from`` on (USD per million tokens);
        reprices the events it covers. Returns how many events of the model were repriced."""
        from valuegap.costs.pricing import catalogue_rates
        from valuegap.store.pricing import reprice

        self._require("cost.write")
        rates = {"input_per_mtok": input_per_mtok, "output_per_mtok": output_per_mtok,
                 "cache_read_per_mtok": cache_read_per_mtok,
                 "cache_write_per_mtok": cache_write_per_mtok}  # fmt: skip
        problems = [Problem(f"--{k.replace('_', '-')}", "must be a number >= 0", v)
                    for k, v in rates.items() if v is not None and v < 0]  # fmt: skip
        if problems:
            raise ValidationError(f"The price of {model} was not set.", problems)
        with self._db.transaction():
            before = self._costs.set_override(model, valid_from, rates, self._now(), self.actor)
            repriced = reprice(self._db, catalogue_rates, model)
            self._record(
                "price.set",
                "price",
                f"{model}@{valid_from}",
                before,
                {"model": model, "valid_from": valid_from, **rates},
            )
        return repriced

    def price_overrides(self) -> list[dict[str, Any]]:
        self._require("read")
        return self._costs.overrides()

    def unpriced_usage(self) -> list[dict[str, Any]]:
        """Usage with no reported cost that the catalogue and overrides cannot price."""
        self._require("read")
        return self._costs.unpriced()

    def apply_rules(self, path: Path) -> int:
        """Validate and store allocation rules, replacing those in force; return the version."""
        import yaml

        from valuegap.costs.rules import RuleSet, check_rules
        from valuegap.portfolio.validation import validated
        from valuegap.yamlio import dump_yaml, load_yaml, read_file

        self._require("cost.write")
        text = read_file(Path(path))
        try:
            data = load_yaml(text) or {}
        except yaml.YAMLError as exc:
            raise ValidationError(f"{path} cannot be read as YAML.",
                                  [Problem(str(path), str(exc))]) from exc  # fmt: skip
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
            )
        return version

    def allocation_rules(self) -> Any:
        from valuegap.costs.rules import RuleSet
        from valuegap.yamlio import load_yaml

        self._require("read")
        current = self._costs.current_rules()
        return RuleSet.model_validate(load_yaml(current[1])) if current else RuleSet()

    def cost_report(
        self, by: Sequence[str], start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """Allocated cost in the reporting currency, summed by ``by``; unallocated shown."""
        from valuegap.costs.rollup import DIMENSIONS, rollup

        self._require("read")
        problems = [Problem("--by", f"must be one of {', '.join(DIMENSIONS)} or tag:<key>", k)
                    for k in by if k not in DIMENSIONS and not k.startswith("tag:")]  # fmt: skip
        if problems:
            raise ValidationError("The report cannot be made.", problems)
        with self.rollup_base(by) as (summed, initiatives, inputs):
            result = rollup(summed, initiatives, inputs, by, start, end).to_pyarrow()
        rows: list[dict[str, Any]] = result.to_pylist()
        for row in rows:
            row["cost"] = plain(row["cost"])
            if "month" in row:
                row["month"] = f"{row['month']:%Y-%m}"
            row["currency"] = inputs.reporting_currency
        return rows

    @contextmanager
    def rollup_base(self, by: Sequence[str] = ()) -> Iterator[tuple[Any, Any, Any]]:
        """The facts summed once by what the rules and ``by`` look at (cached where they
        live), the initiatives, and the rules, rates and proportional shares to allocate them
        with."""
        from valuegap.costs.focus import COST_COLUMNS
        from valuegap.costs.rollup import summed_lines
        from valuegap.store.engine import ibis_tables

        tables = ibis_tables(self._db)
        rules = self.allocation_rules().rules
        column = COST_COLUMNS[self.settings.cost_column]
        summed = summed_lines(tables, rules, column, by).cache()
        try:
            initiatives = tables["initiatives"]
            yield summed, initiatives, self.rollup_inputs(summed, initiatives, rules)
        finally:
            summed.release()

    def rollup_inputs(self, summed: Any, initiatives: Any, rules: Sequence[Any]) -> Any:
        """Rates and proportional shares for allocating ``summed`` (from ``summed_lines``)."""
        from valuegap.costs.currency import monthly_rates
        from valuegap.costs.rollup import RollupInputs, currencies, drivers

        reporting = self.settings.reporting_currency
        pairs = [(r["currency"], r["month"])
                 for r in currencies(summed, reporting).to_pyarrow().to_pylist()
                 if r["currency"] is not None]  # fmt: skip
        rates = monthly_rates(pairs, self._costs.rates(), reporting)
        inputs = RollupInputs(rules, rates, reporting)
        proportional = [r for r in rules if r.split and r.split.method == "proportional"]
        if not proportional:
            return inputs
        shares = proportional_shares(proportional, drivers(summed, initiatives, inputs))
        return RollupInputs(rules, rates, reporting, shares)

    def reconcile(self, tolerance: Decimal = Decimal("0.05")) -> list[dict[str, Any]]:
        """Computed usage cost against invoiced FOCUS cost per provider and month."""
        from valuegap.costs.currency import monthly_rates
        from valuegap.costs.reconcile import reconcile

        self._require("read")
        rows = self._costs.reconciliation()
        reporting = self.settings.reporting_currency
        rates = monthly_rates([(r["currency"], r["month"]) for r in rows], self._costs.rates(),
                              reporting)  # fmt: skip
        return reconcile(rows, rates, reporting, tolerance)


def proportional_shares(rules: Sequence[Any], driver_table: Any) -> dict[Any, Any]:
    """(rule id, month) -> {initiative: share} from the month's driver values."""
    from valuegap.costs.rules import exact_shares

    found: dict[Any, Any] = {}
    rows = driver_table.to_pyarrow().to_pylist()
    for rule in rules:
        split = rule.split
        for month in sorted({r["month"] for r in rows}):
            weights = {r["initiative"]: r[split.driver] for r in rows
                       if r["month"] == month and r["initiative"] in split.among
                       and r[split.driver]}  # fmt: skip
            if weights and sum(weights.values()) > 0:
                found[(rule.id, month)] = exact_shares(weights)
    return found


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
        self, db: Database, loader: Callable[[Database, Any, int], int], hashed: bool
    ) -> None:
        self._db, self._loader, self._hashed = db, loader, hashed
        self._ahead: dict[Path, Any] = {}

    def stage_ahead(self, path: Path) -> None:
        self._ahead[path] = self._stage(path)

    def __call__(self, path: Path, ingest_id: int) -> tuple[int, int]:
        staged = self._ahead.pop(path, None) or self._stage(path)
        return staged.rows or 0, self._loader(self._db, staged, ingest_id)

    def _stage(self, path: Path) -> Any:
        from valuegap.store.staging import stage_file

        return stage_file(self._db, path, hashed=self._hashed)

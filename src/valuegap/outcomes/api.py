"""The outcome half of ``Ledger``: loading measured data, and the value reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.outcomes.periods import Window
from valuegap.settings import Settings
from valuegap.sources import Source
from valuegap.store.costs import CostStore
from valuegap.store.database import Database
from valuegap.store.governance import GovernanceStore
from valuegap.store.outcomes import OutcomeStore

ALL_TIME = Window()
MeasureKind = Literal["observations", "outcomes", "behaviour", "quality", "capacity"]


class OutcomesApi:
    _db: Database
    _costs: CostStore
    _governance: GovernanceStore
    settings: Settings
    _require: Callable[..., None]
    _ingest: Callable[..., Any]
    _staged: Callable[..., Any]
    cost_report: Callable[..., list[dict[str, Any]]]
    initiatives: Callable[..., Any]

    def ingest_measures(
        self, kind: MeasureKind, source: Source, *, source_name: str | None = None
    ) -> Any:
        """Load a file of measured data (``kind`` as in ``store.measures.FILES``): a path,
        bytes or a binary stream (named in messages by ``source_name``)."""
        from valuegap.store.measures import FILES, load_measures

        if kind not in FILES:
            raise ValidationError("Unknown kind of measured data.", [
                Problem("kind", f"must be one of {', '.join(FILES)}", kind)])  # fmt: skip

        required = [c.name for c in FILES[kind].columns if c.required]
        loader = self._staged(
            lambda db, staged, ingest_id: load_measures(db, staged, kind, ingest_id),
            required=required,
        )
        results = self._ingest(kind, [source], loader, "outcome.write", [source_name])
        return results[0]

    def initiative_report(self, initiative_id: str, window: Window = ALL_TIME) -> dict[str, Any]:
        from valuegap.outcomes.reports import initiative_report

        facts = self._facts()
        found = next((i for i in facts.initiatives if i.id == initiative_id), None)
        if found is None:
            raise NotFound(f"No initiative {initiative_id!r}; `Ledger.initiatives()` shows them.")
        return initiative_report(facts, found, window)

    def portfolio_report(self, window: Window = ALL_TIME) -> dict[str, Any]:
        from valuegap.outcomes.reports import portfolio_report

        return portfolio_report(self._facts(), window)

    def scoreboard(self, window: Window | None = None) -> dict[str, Any]:
        """The incentive scoreboard for ``window`` (default: the latest quarter with cost)."""
        from valuegap.months import add_months, quarter_start
        from valuegap.outcomes.reports import scoreboard

        facts = self._facts()
        if window is None:
            months = [r["month"] for r in facts.costs]
            latest = max(months) if months else date.today()
            start = quarter_start(latest)
            window = Window(start, add_months(start, 3))
        activity = OutcomeStore(self._db).activity(window.start, window.end)
        return scoreboard(facts, window, activity)

    def _facts(self) -> Any:
        from valuegap.costs.currency import monthly_rates
        from valuegap.outcomes.reports import Facts

        self._require("read")
        store = OutcomeStore(self._db)
        costs = self.cost_report(["initiative", "business_unit", "category", "month"])
        for row in costs:
            row["month"] = date.fromisoformat(row["month"] + "-01")
        reporting = self.settings.reporting_currency
        rates = self._costs.rates()
        known: dict[tuple[str, date], Decimal] = {}

        def convert(currency: str, month: date) -> Decimal:
            if currency == reporting:
                return Decimal(1)
            if (currency, month) not in known:
                known.update(monthly_rates([(currency, month)], rates, reporting))
            return known[(currency, month)]

        return Facts(
            initiatives=self.initiatives(),
            costs=costs,
            observations=store.observations(),
            counts=store.outcome_counts(),
            behaviour=store.behaviour(),
            quality=store.quality(),
            capacity=store.capacity(),
            retirements=store.retirements(),
            convert=convert,
            currency=reporting,
            level=self.settings.confidence_level,
            drift_threshold=self.settings.quality_drift_threshold,
            count_uncaptured=self.settings.count_uncaptured_capacity,
            reviews=self._governance.reviews(),
        )

"""Adaptive ROI scenarios (``ledger.outcomes.scenarios``): an initiative's inference cost
repriced under changes of volume, tokens per request, token price or model, its fixed cost
as it is, and the ROI and payback its business case then plans, beside the baseline.

The window is one whole calendar month: the latest before the current one in which the
initiative has LLM usage (or the month asked for). Its inference cost is its calls of that
month (tokens by kind and requests, by model) priced as the ledger prices calls: the
organisation's price overrides first, then the genai-prices catalogue, at the prices in force
on the window's last day. Its calls are those the allocation rules give it, as they give their
cost (``Costs.calls_by_initiative``): a call a split rule divides counts in the initiative's
share of it. Fixed cost is the initiative's cost of the month that is not priced by tokens
(GPUs, storage, people, manual costs, bills without token counts).

The projection is the business case's (``forecast.ramp``) with the monthly investment replaced
by the month's cost (fixed + inference) for ``months`` months: value, ROI, and the expected
J-curve (``forecast.jcurve``) with its trough and payback month.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.forecast.jcurve import expected_curve
from valuegap.forecast.ramp import Plan
from valuegap.forecast.scenario import (
    ModelUsage,
    ScenarioChanges,
    as_decimal,
    inference_cost,
    volume_factor,
    with_ramp,
)
from valuegap.months import add_months
from valuegap.records import record
from valuegap.results import Money, Quantity, Ratio
from valuegap.session import Part, Session
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.costs.api import Costs
    from valuegap.model.pricing import Price, Pricer
    from valuegap.portfolio.api import Initiatives

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
HORIZON = 36  # months a projection runs, by default


@record
class ModelCost:
    """One model's calls in the window, and what they cost in the baseline and the scenario."""

    provider: str | None
    model: str
    priced_as: str
    requests: Quantity
    baseline: Money
    scenario: Money


@record
class JCurveMonth:
    """A month of the expected J-curve (``forecast.jcurve``): cumulative net value."""

    month: int
    baseline: Money
    scenario: Money


@record
class Scenario:
    """An initiative's month (``window``, YYYY-MM) under ``changes``, beside its baseline:
    monthly costs, and over ``months`` months the value, ROI and payback month (1 is the
    first) its business case plans (none without one)."""

    initiative: str
    name: str | None
    changes: str
    window: str
    currency: str
    requests: Quantity  # observed in the window
    volume_factor: Quantity
    inference_cost: Money
    baseline_inference_cost: Money
    fixed_cost: Money
    months: int
    value: Money | None
    baseline_value: Money | None
    value_note: str | None  # where the value comes from, and what moves it
    roi: Ratio | None
    baseline_roi: Ratio | None
    payback_month: int | None
    baseline_payback_month: int | None
    trough_month: int | None
    trough_depth: Money | None
    baseline_trough_month: int | None
    baseline_trough_depth: Money | None
    models: list[ModelCost]
    jcurve: list[JCurveMonth]  # empty without a business case


VALUE_NOTE = (
    "the business case's planned value, which a change of volume, tokens per request, "
    "token price or model does not move: they move cost"
)


def value_note(changes: ScenarioChanges) -> str:
    """Where a scenario's value comes from: the business case, whatever the volume; only a
    change of ramp moves it, by moving when adoption comes."""
    if changes.ramp is None:
        return VALUE_NOTE
    return f"{VALUE_NOTE}; the {changes.ramp} ramp moves when it comes"


@record
class SavedScenario:
    name: str
    initiative: str
    changes: str
    saved_at: datetime
    saved_by: str


@record
class ScenarioRow:
    """A line of a comparison: a scenario, or an initiative's baseline (``name`` None)."""

    name: str | None
    initiative: str
    changes: str
    inference_cost: Money
    fixed_cost: Money
    value: Money | None
    roi: Ratio | None
    payback_month: int | None
    currency: str


class Scenarios(Part):
    """Adaptive ROI scenarios: computed, saved by name, compared."""

    def __init__(self, session: Session, costs: Costs, initiatives: Initiatives) -> None:
        from valuegap.store.scenarios import ScenarioStore

        super().__init__(session)
        self._costs = costs
        self._initiatives = initiatives
        self._store = ScenarioStore(session.db)

    def scenario(
        self,
        initiative_id: str,
        changes: ScenarioChanges,
        *,
        month: date | None = None,
        months: int = HORIZON,
        name: str | None = None,
    ) -> Scenario:
        """``initiative_id``'s costs and planned ROI under ``changes``, beside its baseline,
        from the month ``month`` (default: its latest whole month with LLM usage)."""
        self._require("read")
        if months < 1:
            problem = Problem("months", "must be at least 1", str(months))
            raise ValidationError("The scenario was not computed.", [problem])
        initiative = self._initiatives.initiative(initiative_id)
        start = self._window(initiative_id, month)
        end = add_months(start, 1)
        lines = self._costs.cost_report(["initiative", "model"], start, end)
        mine = [line for line in lines if line.initiative == initiative_id]
        fixed = sum((line.cost for line in mine if line.model is None), Decimal(0))
        usage = self._usage(initiative_id, start)
        requests = sum((u.requests for u in usage), Decimal(0))
        volume = volume_factor(changes.volume, requests, (end - start).days)
        pricer = self._pricer()
        at = datetime.combine(end - timedelta(days=1), datetime.min.time())
        models = []
        for found in usage:
            base_price = self._price(pricer, found, found.model, at, "initiative")
            new_model = changes.model or found.model
            new_price = self._price(pricer, found, new_model, at, "model")
            models.append(
                ModelCost(
                    provider=found.provider,
                    model=found.model,
                    priced_as=new_model,
                    requests=found.requests,
                    baseline=self._convert(base_price, start)
                    * inference_cost(found, base_price.tiers, ScenarioChanges(), Fraction(1)),
                    scenario=self._convert(new_price, start)
                    * inference_cost(found, new_price.tiers, changes, volume),
                )
            )
        baseline = sum((m.baseline for m in models), Decimal(0))
        inference = sum((m.scenario for m in models), Decimal(0))
        case = initiative.business_case
        base_plan = new_plan = None
        if case is not None:
            plan = Plan.of(case)
            rate = self._rate(case.currency, start)
            value = plan.monthly_value * rate
            base_plan = replace(plan, monthly_investment=fixed + baseline, monthly_value=value)
            new_plan = with_ramp(
                replace(base_plan, monthly_investment=fixed + inference), changes.ramp
            )
        base = None if base_plan is None else expected_curve(base_plan, months)
        new = None if new_plan is None else expected_curve(new_plan, months)
        return Scenario(
            initiative=initiative_id,
            name=name,
            changes=str(changes),
            window=f"{start:%Y-%m}",
            currency=self.settings.reporting_currency,
            requests=requests,
            volume_factor=as_decimal(volume),
            inference_cost=inference,
            baseline_inference_cost=baseline,
            fixed_cost=fixed,
            months=months,
            value=None if new_plan is None else new_plan.value(months),
            baseline_value=None if base_plan is None else base_plan.value(months),
            value_note=None if case is None else value_note(changes),
            roi=None if new_plan is None else new_plan.roi(months),
            baseline_roi=None if base_plan is None else base_plan.roi(months),
            payback_month=None if new is None else new.payback_month,
            baseline_payback_month=None if base is None else base.payback_month,
            trough_month=None if new is None else new.trough_month,
            trough_depth=None if new is None else new.trough_depth,
            baseline_trough_month=None if base is None else base.trough_month,
            baseline_trough_depth=None if base is None else base.trough_depth,
            models=models,
            jcurve=[
                JCurveMonth(b.month, b.cumulative, n.cumulative)
                for b, n in zip(base.months, new.months, strict=True)
            ]
            if base and new
            else [],
        )

    @writes
    def save_scenario(self, name: str, initiative_id: str, changes: ScenarioChanges) -> Scenario:
        """Save ``changes`` to ``initiative_id`` as the scenario ``name`` (replacing the
        initiative's scenario of that name; another initiative's keeps it), once it computes;
        returns it."""
        self._require("portfolio.write")
        if not _NAME.match(name):
            problem = Problem(
                "name", "must be lower-case letters, digits, '-' and '_' (up to 64)", name
            )
            raise ValidationError("The scenario was not saved.", [problem])
        found = self.scenario(initiative_id, changes, name=name)
        before = next((s for s in self._store.all() if s["name"] == name), None)
        if before is not None and before["initiative"] != initiative_id:
            problem = Problem("name", "is another initiative's scenario; choose another", name)
            raise ValidationError("The scenario was not saved.", [problem])
        with self._db.transaction():
            self._store.save(name, initiative_id, changes.text(), self._now(), self.actor)
            self._record(
                "scenario.save",
                "scenario",
                name,
                before and {"initiative": before["initiative"], "changes": before["changes"]},
                {"initiative": initiative_id, "changes": changes.text()},
                changed=[("scenarios", {"name": name})],
            )
        return found

    def scenarios(self) -> list[SavedScenario]:
        """The saved scenarios of the initiatives the actor may see (a contributor's units'),
        by name."""
        self._require("read")
        visible = {initiative.id for initiative in self._initiatives.initiatives()}
        return [
            SavedScenario(
                name=row["name"],
                initiative=row["initiative"],
                changes=str(ScenarioChanges.parse(**row["changes"])),
                saved_at=row["saved_at"],
                saved_by=row["saved_by"],
            )
            for row in self._store.all()
            if row["initiative"] in visible
        ]

    def saved_scenario(self, name: str) -> Scenario:
        """The saved scenario ``name``, computed on the ledger as it is now."""
        self._require("read")
        row = next((r for r in self._store.all() if r["name"] == name), None)
        if row is None:
            raise NotFound(f"There is no saved scenario {name!r}; `scenario list` shows them.")
        changes = ScenarioChanges.parse(**row["changes"])
        return self.scenario(row["initiative"], changes, name=name)

    def compare_scenarios(self, names: Sequence[str]) -> list[ScenarioRow]:
        """The saved scenarios ``names``, each after its initiative's baseline (once)."""
        rows: list[ScenarioRow] = []
        seen: set[str] = set()
        for name in names:
            found = self.saved_scenario(name)
            if found.initiative not in seen:
                seen.add(found.initiative)
                rows.append(
                    ScenarioRow(
                        name=None,
                        initiative=found.initiative,
                        changes="baseline",
                        inference_cost=found.baseline_inference_cost,
                        fixed_cost=found.fixed_cost,
                        value=found.baseline_value,
                        roi=found.baseline_roi,
                        payback_month=found.baseline_payback_month,
                        currency=found.currency,
                    )
                )
            rows.append(
                ScenarioRow(
                    name=name,
                    initiative=found.initiative,
                    changes=found.changes,
                    inference_cost=found.inference_cost,
                    fixed_cost=found.fixed_cost,
                    value=found.value,
                    roi=found.roi,
                    payback_month=found.payback_month,
                    currency=found.currency,
                )
            )
        return rows

    def _window(self, initiative_id: str, month: date | None) -> date:
        if month is not None:
            return month.replace(day=1)
        current = self._now().date().replace(day=1)
        months = [
            line.month
            for line in self._costs.cost_report(["initiative", "month", "model"], end=current)
            if line.initiative == initiative_id and line.model is not None and line.month
        ]
        if not months:
            raise ValidationError(
                f"{initiative_id} has no LLM usage in a whole month: a scenario reprices "
                "usage (load it with `ingest usage`).",
                [Problem("initiative", "has no LLM usage before this month", initiative_id)],
            )
        return date.fromisoformat(f"{max(months)}-01")

    def _usage(self, initiative_id: str, month: date) -> list[ModelUsage]:
        """The initiative's calls in ``month`` by provider and model."""
        return [
            calls
            for calls in self._costs.calls_by_initiative(month)
            if calls.initiative == initiative_id
        ]

    def _pricer(self) -> Pricer:
        from valuegap.model.pricing import Pricer
        from valuegap.store.costs import CostStore

        return Pricer(CostStore(self._db).overrides(), self.settings.provider_aliases)

    def _price(
        self, pricer: Pricer, usage: ModelUsage, model: str, at: datetime, field: str
    ) -> Price:
        """The price of ``model`` for ``usage``'s calls: of their provider, else of the provider
        the catalogue finds for the model's name."""
        from valuegap.model.pricing import catalogue_provider

        found = pricer.price(usage.provider, model, None, at)
        if found is None and (provider := catalogue_provider(model)) is not None:
            found = pricer.price(provider, model, None, at)
        if found is None:
            reason = pricer.unpriced_reason(usage.provider, model, at)
            raise ValidationError(
                f"The scenario cannot price {model}: neither an organisation price nor the "
                "catalogue has it.",
                [Problem(field, reason, model)],
            )
        return found

    def _rate(self, currency: str, month: date) -> Decimal:
        from valuegap.costs.currency import monthly_rates
        from valuegap.store.costs import CostStore

        reporting = self.settings.reporting_currency
        if currency == reporting:
            return Decimal(1)
        rates = monthly_rates([(currency, month)], CostStore(self._db).rates(), reporting)
        return rates[(currency, month)]

    def _convert(self, price: Price, month: date) -> Decimal:
        return self._rate(price.currency, month)

"""One initiative in one window, as the reports see it: its cost by category and month, its
metrics' outcomes, its successful outcomes and its hours saved."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from valuegap.model.manual import spread
from valuegap.model.portfolio import Initiative, MetricSpec
from valuegap.outcomes import attribution as stats
from valuegap.outcomes.capacity import Capacity, capacity_of
from valuegap.outcomes.evaluation import (
    MetricOutcome,
    ValueInterval,
    evaluate,
    value_interval,
    with_captured_share,
)
from valuegap.outcomes.facts import Facts
from valuegap.outcomes.periods import Window

if TYPE_CHECKING:
    from valuegap.outcomes.results import State

ZERO = Decimal(0)


@dataclass
class Assessment:
    """One initiative in one window."""

    initiative: Initiative
    cost_by_category: dict[str, Decimal] = field(default_factory=dict)
    cost_by_month: dict[date, Decimal] = field(default_factory=dict)
    metrics: list[MetricOutcome] = field(default_factory=list)
    outcomes: Decimal = ZERO
    capacity: Capacity | None = None

    @property
    def total_cost(self) -> Decimal:
        return sum(self.cost_by_category.values(), ZERO)

    def value_by_month(self, window: Window) -> dict[date, Decimal]:
        """The periods' value over their months (as manual costs are spread), within
        ``window``."""
        found: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for m in self.metrics:
            for p in m.periods:
                value = p.value if p.whole_value is None else p.whole_value
                if value is not None:
                    for month, part in spread(value, p.period_start, p.period_end):
                        if window.holds(month):
                            found[month] += part
        return dict(found)

    def interval(self, level: float) -> ValueInterval:
        """The value of all its metrics and its interval (metrics measure different groups,
        so their variances add)."""
        found = value_interval((p for m in self.metrics for p in m.periods), level)
        return found if found.value is not None else ValueInterval(ZERO, ZERO, ZERO)

    @property
    def validated(self) -> bool:
        """Its primary metric decides (the others never validate it alone)."""
        primary = self.primary
        return primary is not None and primary.validated

    @property
    def primary(self) -> MetricOutcome | None:
        chosen = self.initiative.primary_metric
        return next((m for m in self.metrics if chosen and m.metric.id == chosen.id), None)

    @property
    def validation_reason(self) -> str:
        primary = self.primary
        if primary is None:
            return "no success metric is defined"
        return f"{primary.metric.id} (primary): {primary.validation_reason}"

    def holm_significant(self, level: float) -> dict[str, bool]:
        """Per metric, whether its value over the window differs from zero, in the intended
        direction, at family-wise 1 - ``level`` over the initiative's metrics (Holm)."""
        intervals = [m.interval() for m in self.metrics]
        p_values = [i.p_value if i.value is not None and i.value > 0 else None for i in intervals]
        found = stats.holm(p_values, 1 - level)
        return {m.metric.id: f for m, f in zip(self.metrics, found, strict=True)}

    @property
    def state(self) -> State:
        if self.initiative.stage == "retired":
            return "killed"
        return "validated" if self.validated else "not_validated"


def assess(facts: Facts, initiative: Initiative, window: Window) -> Assessment:
    result = Assessment(initiative)
    for row in facts.costs:
        if row.initiative == initiative.id and window.holds(row.month):
            by_category, by_month = result.cost_by_category, result.cost_by_month
            by_category[row.category] = by_category.get(row.category, ZERO) + row.cost
            by_month[row.month] = by_month.get(row.month, ZERO) + row.cost
    capacity = [
        c for c in facts.capacity if c.initiative == initiative.id and window.holds(c.period_start)
    ]
    if capacity:
        result.capacity, _ = capacity_of(capacity)
    for metric in initiative.metrics:
        measured = [c for c in capacity if c.metric == metric.id]
        share = capacity_of(measured)[1] if measured and not facts.count_uncaptured else None
        outcome = _outcome(facts, initiative, metric, window)
        result.metrics.append(with_captured_share(outcome, share))
    result.outcomes = sum(outcomes_by_month(facts, initiative.id, window).values(), ZERO)
    return result


def validated_in(facts: Facts, initiative: Initiative, window: Window) -> bool:
    """Whether ``initiative``'s outcome is validated in ``window`` (``Assessment.validated``),
    from its primary metric alone: what attribution coverage needs, without the rest of an
    assessment."""
    primary = initiative.primary_metric
    return primary is not None and _outcome(facts, initiative, primary, window).validated


def validated_ids(assessed: Iterable[Assessment]) -> set[str]:
    """The initiatives among ``assessed`` whose outcome is validated."""
    return {a.initiative.id for a in assessed if a.validated}


def _outcome(
    facts: Facts, initiative: Initiative, metric: MetricSpec, window: Window
) -> MetricOutcome:
    return evaluate(
        metric,
        [o for o in facts.observations if o.metric == metric.id],
        [c for c in facts.counts if c.initiative == initiative.id and c.metric == metric.id],
        level=facts.level,
        convert=facts.convert,
        window=window,
    )


def outcomes_by_month(facts: Facts, initiative: str, window: Window) -> dict[date, Decimal]:
    """The initiative's successful outcomes in each month of ``window``: a period's count is
    spread over its months as costs are."""
    counts: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for c in facts.counts:
        if c.initiative == initiative and window.overlaps(c.period_start, c.period_end):
            for month, part in spread(Decimal(c.count), c.period_start, c.period_end):
                if window.holds(month):
                    counts[month] += part
    return dict(counts)

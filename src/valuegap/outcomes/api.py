"""The outcomes part of the ledger (``ledger.outcomes``): loading measured data, and the value
reports, built on the cost report of ``ledger.costs``."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from valuegap.adoption.unit_outcome import UnitOutcome
from valuegap.costs.api import IngestResult
from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.outcomes.coverage import CoverageTrend
from valuegap.outcomes.facts import Facts, facts_in_scope
from valuegap.outcomes.jcurve import JCurveReport
from valuegap.outcomes.periods import Window
from valuegap.outcomes.portfolio_value import PortfolioValue
from valuegap.outcomes.results import InitiativeReport, PortfolioReport, Scoreboard
from valuegap.session import Part, Session, built_on_first_use
from valuegap.sources import Source
from valuegap.store.outcomes import OutcomeStore
from valuegap.store.portfolio import PortfolioStore

if TYPE_CHECKING:
    from valuegap.costs.api import Costs
    from valuegap.outcomes.scenarios import Scenarios
    from valuegap.portfolio.api import Initiatives

ALL_TIME = Window()
MAX_MONTHS = 240  # the longest J-curve forecast: twenty years
MeasureKind = Literal["observations", "outcomes", "behaviour", "quality", "capacity"]


class Outcomes(Part):
    """Measured outcomes, and what they are worth against what they cost."""

    def __init__(self, session: Session, costs: Costs, initiatives: Initiatives) -> None:
        super().__init__(session)
        self._stages = PortfolioStore(session.db)
        self._costs_part = costs
        self._initiatives = initiatives
        self._building = threading.RLock()

    @built_on_first_use
    def scenarios(self) -> Scenarios:
        """ROI scenarios (``scenarios.py``): a sub-part, built on first use (a report needs
        none)."""
        from valuegap.outcomes.scenarios import Scenarios

        return Scenarios(self._session, self._costs_part, self._initiatives)

    def ingest_measures(
        self, kind: MeasureKind, source: Source, *, source_name: str | None = None
    ) -> IngestResult:
        """Load a file of measured data (``kind`` as in ``store.measures.FILES``): a path,
        bytes or a binary stream (named in messages by ``source_name``)."""
        from valuegap.store.measures import FILES, load_measures

        if kind not in FILES:
            raise ValidationError("Unknown kind of measured data.", [
                Problem("kind", f"must be one of {', '.join(FILES)}", kind)])  # fmt: skip

        required = [c.name for c in FILES[kind].columns if c.required]
        loader = self._costs_part.staged_loader(
            lambda db, staged, ingest_id: load_measures(db, staged, kind, ingest_id),
            required=required,
        )
        results = self._costs_part.ingest_files(
            kind, [source], loader, permission="outcome.write", names=[source_name]
        )
        return results[0]

    def initiative_report(self, initiative_id: str, window: Window = ALL_TIME) -> InitiativeReport:
        """One initiative's cost, value, ROI and measures over ``window``."""
        from valuegap.outcomes.reports import initiative_report

        facts = self.facts()
        found = next((i for i in facts.initiatives if i.id == initiative_id), None)
        if found is None:
            raise NotFound(
                f"No initiative {initiative_id!r}; `Ledger.portfolio.initiatives()` shows them."
            )
        return initiative_report(facts, found, window)

    def jcurve(self, initiative_id: str, months: int | None = None) -> JCurveReport:
        """The initiative's J-curve, named in advance by its business case (``months`` months,
        default 24 or as long as the actuals run), and its actual net value against it."""
        from valuegap.outcomes.jcurve import initiative_jcurve

        facts = self.facts()
        found = next((i for i in facts.initiatives if i.id == initiative_id), None)
        if found is None:
            raise NotFound(
                f"No initiative {initiative_id!r}; `Ledger.portfolio.initiatives()` shows them."
            )
        if found.business_case is None:
            raise ValidationError(
                f"Initiative {initiative_id!r} has no business case, so no J-curve.",
                [Problem("business_case", "add one in the portfolio file", None)],
            )
        _check_months(months)
        started = self._stages.stages_entered(initiative_id).get("poc")
        return initiative_jcurve(facts, found, _day(started), self._now().date(), months)

    def portfolio_jcurve(self, months: int | None = None) -> JCurveReport:
        """The portfolio's J-curve: the sum of its initiatives' that have a business case and
        have started, aligned by calendar month (a retired one's ends when it was retired)."""
        from valuegap.outcomes.jcurve import portfolio_jcurve

        facts = self.facts()
        _check_months(months)
        started, retired = {}, {}
        entered_by = self._stages.stages_entered_by_initiative()
        for i in facts.initiatives:
            entered = entered_by.get(i.id, {})
            if "poc" in entered:
                started[i.id] = entered["poc"].date()
            if "retired" in entered:
                retired[i.id] = entered["retired"].date()
        return portfolio_jcurve(facts, started, retired, self._now().date(), months)

    def portfolio_report(self, window: Window = ALL_TIME) -> PortfolioReport:
        from valuegap.outcomes.reports import portfolio_report

        return portfolio_report(self.facts(), window)

    def portfolio_value(self, window: Window = ALL_TIME) -> PortfolioValue:
        """The value of every initiative in ``window``, its interval (from the variances, not
        a sum of lower bounds) and ROI on all AI cost, unallocated included."""
        from valuegap.outcomes.portfolio_value import portfolio_value

        return portfolio_value(self.facts(), window)

    def coverage_trend(self, window: Window = ALL_TIME) -> CoverageTrend:
        """Attribution coverage month by month over ``window`` (by default from the first
        month with cost to the last): each month's is the portfolio report's for that month."""
        from valuegap.outcomes.coverage import coverage_trend

        return coverage_trend(self.facts(), window)

    def scoreboard(self, window: Window | None = None) -> Scoreboard:
        """The incentive scoreboard for ``window`` (default: the latest quarter with cost)."""
        from valuegap.months import add_months, quarter_start
        from valuegap.outcomes.reports import scoreboard

        facts = self.facts()
        if window is None:
            months = [r.month for r in facts.costs]
            latest = max(months) if months else date.today()
            start = quarter_start(latest)
            window = Window(start, add_months(start, 3))
        activity = OutcomeStore(self._db).activity(window.start, window.end)
        return scoreboard(facts, window, activity)

    def unit_outcomes(self, on: date) -> list[UnitOutcome]:
        """Per business unit, its initiatives with a validated outcome and its attribution
        coverage's cost, over everything up to the month of ``on`` (the adoption reports')."""
        from valuegap.outcomes.unit_outcomes import unit_outcomes_on

        return unit_outcomes_on(self._session, self._costs_part, on)

    def facts(self) -> Facts:
        """What the reports are made of, as read from the ledger: kept until the next write,
        so that a page showing several reports (or many readers at once) reads them once. Kept
        for each scope: a contributor's facts hold only their business units' initiatives and
        cost (so their coverage, value and ROI are of the spend they may see)."""
        return facts_in_scope(self._session, self._costs_part, self._initiatives)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def _check_months(months: int | None) -> None:
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise ValidationError(
            "The J-curve's months are out of range.",
            [Problem("months", f"must be from 1 to {MAX_MONTHS}", months)],
        )

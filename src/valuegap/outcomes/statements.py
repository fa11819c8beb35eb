"""Statements (``ledger.statements``): showback for every business unit, chargeback for the
units finance switched to it.

A statement shows a unit its cost for a period (``outcomes.statement``). Once finance switches
a unit to chargeback from a month (``set_chargeback``), its statement of each month from then on
is a chargeback statement: the amount to book, to the unit's cost centre. Finance closes a
unit's month once it is over and its statement issued (``close_month``; in showback too: it is
the month-end close, never automatic): the statement is stored as it is then, and read so ever
after. A later change to a closed month's cost (a corrected bill re-ingested, a new rule) is
booked in the next open month, as adjustment lines naming the month they correct; the closed
statement never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from valuegap.costs.rules import UNALLOCATED
from valuegap.decimals import plain
from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.months import add_months, month_starts
from valuegap.outcomes.finance import cost_per_outcome
from valuegap.outcomes.periods import Period, Window
from valuegap.outcomes.statement import (
    Statement,
    UnitEconomics,
    adjustments_for,
    closed_run,
    costed,
)
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.store.aggregates import DIMENSIONS
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.statements import StatementStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from valuegap.costs.api import Costs
    from valuegap.outcomes.results import PortfolioReport

ZERO = Decimal(0)


@record
class ChargebackUnit:
    """A business unit in chargeback from ``from_month`` (YYYY-MM), and its closed months."""

    business_unit: str
    from_month: str
    cost_centre: str | None
    set_at: datetime
    set_by: str
    closed_months: list[str]


class Statements(Part):
    """Showback and chargeback statements of the business units."""

    def __init__(
        self,
        session: Session,
        costs: Costs,
        portfolio_report: Callable[[Window], PortfolioReport],
    ) -> None:
        super().__init__(session)
        self._store = StatementStore(session.db)
        self._costs = costs
        self._portfolio_report = portfolio_report  # the outcomes' portfolio report, as the reader's

    def statement(self, unit: str, window: Window) -> Statement:
        """The statement of business unit ``unit`` for ``window`` (a month, quarter, ...). A
        closed month's is as it was closed. An open month's books the changes to the closed
        months just before it as adjustments; from the unit's chargeback month on, it is a
        chargeback statement. A longer period's is showback, as the cost is now. A contributor
        reads only their own units'."""
        self._require("read", unit)
        if window.start is None or window.end is None:
            problem = Problem("period", "must be a period: a month, quarter, half or year", None)
            raise ValidationError("The statement cannot be made.", [problem])
        if not self._knows(unit):
            raise NotFound(
                f"No business unit {unit!r} has initiatives, rules or cost; "
                "`Ledger.costs.cost_report(['business_unit'])` shows those with cost."
            )
        if window.end != add_months(window.start, 1):
            return self._made(unit, window.start, window.end, None, {})
        closed = self._closed(unit)
        if window.start in closed:
            return closed[window.start]
        return self._made(unit, window.start, window.end, self._charged(unit, window.start), closed)

    def _charged(self, unit: str, month: date) -> dict[str, Any] | None:
        """The unit's chargeback setting, if ``month`` is charged back."""
        setting = self._store.chargeback_unit(unit)
        return setting if setting is not None and month >= setting["from_month"] else None

    def _made(
        self,
        unit: str,
        start: date,
        end: date,
        setting: dict[str, Any] | None,
        closed: dict[date, Statement],
    ) -> Statement:
        run = closed_run(start, closed)  # the closed months whose changes this month books
        parts = self._costs.allocated_parts(DIMENSIONS, months=[*month_starts(start, end), *run])
        found = costed(parts, unit, start, end)
        now = {m: costed(parts, unit, m, add_months(m, 1)).lines for m in run}
        adjustments = adjustments_for(start, now, closed)
        adjusted = plain(sum((a.difference for a in adjustments), ZERO))
        economics = self._economics(unit, Window(start, end))
        counted = [e for e in economics if e.successful_outcomes]
        return Statement(
            business_unit=unit,
            period=Period.of(Window(start, end)),
            mode="chargeback" if setting else "showback",
            cost_centre=setting["cost_centre"] if setting else None,
            currency=self.settings.reporting_currency,
            cost=found.total(),
            invoiced=found.total("invoiced"),
            estimated=found.total("estimated"),
            manual=found.total("manual"),
            adjustments_total=adjusted,
            to_book=plain(found.total() + adjusted) if setting else None,
            cost_per_outcome=cost_per_outcome(
                sum((e.cost for e in counted), ZERO),
                sum((Decimal(str(e.successful_outcomes)) for e in counted), ZERO),
            ),
            closed_at=None,
            closed_by=None,
            lines=found.lines,
            shared=found.shared,
            adjustments=adjustments,
            unit_economics=economics,
            activity=found.activity,
        )

    def _economics(self, unit: str, window: Window) -> list[UnitEconomics]:
        """The unit's initiatives with cost or outcomes in ``window``, as the portfolio report
        counts them."""
        report = self._portfolio_report(window)
        return [
            UnitEconomics(i.id, i.total_cost, i.successful_outcomes, i.cost_per_outcome)
            for i in report.initiatives
            if i.business_unit == unit and (i.total_cost or i.successful_outcomes)
        ]

    def _closed(self, unit: str) -> dict[date, Statement]:
        return {m: _stored().validate_json(text) for m, text in self._store.closed(unit).items()}

    @writes
    def set_chargeback(
        self, unit: str, from_month: date, cost_centre: str | None = None
    ) -> ChargebackUnit:
        """Switch business unit ``unit`` to chargeback from ``from_month`` (its first day),
        booked to ``cost_centre``; again with other values, change them. Finance's (the
        permission ``cost.write``), in the audit log."""
        self._require("cost.write")
        problems = []
        if from_month.day != 1:
            problems.append(Problem("from_month", "must be a month's first day", from_month))
        if unit == UNALLOCATED or not self._knows(unit):
            said = "is not the business unit of any initiative, allocation rule or cost"
            problems.append(Problem("business_unit", said, unit))
        if cost_centre is not None and not cost_centre.strip():
            problems.append(Problem("cost_centre", "must not be empty", cost_centre))
        if problems:
            raise ValidationError(f"Business unit {unit!r} was not switched.", problems)
        before = self._store.chargeback_unit(unit)
        wanted = {"from_month": from_month, "cost_centre": cost_centre}
        if before is None or {k: before[k] for k in wanted} != wanted:
            with self._db.transaction():
                self._store.set_chargeback(unit, from_month, cost_centre, self._now(), self.actor)
                self._record(
                    "chargeback.set",
                    "business_unit",
                    unit,
                    before and _said(before),
                    _said(wanted),
                    changed=[("chargeback_units", {"business_unit": unit})],
                )
        return next(u for u in self.chargeback_units() if u.business_unit == unit)

    def chargeback_units(self) -> list[ChargebackUnit]:
        """The business units in chargeback, with their closed months."""
        self._require("read")
        closed = self._store.closed_months()
        return [
            ChargebackUnit(
                business_unit=row["business_unit"],
                from_month=f"{row['from_month']:%Y-%m}",
                cost_centre=row["cost_centre"],
                set_at=row["set_at"],
                set_by=row["set_by"],
                closed_months=[f"{m:%Y-%m}" for m in closed.get(row["business_unit"], [])],
            )
            for row in self._store.chargeback_units()
        ]

    @writes
    def close_month(self, unit: str, month: date) -> Statement:
        """Close ``month`` (its first day) of business unit ``unit`` once the month is over,
        when finance has issued (in chargeback: booked) its statement: the statement is
        stored as it is now and never changes. Closing it again changes nothing. Finance's
        (``cost.write``), in the audit log."""
        self._require("cost.write")
        where = f"{month:%Y-%m}"
        problems = []
        if not self._knows(unit):
            said = "is not the business unit of any initiative, allocation rule or cost"
            problems.append(Problem("business_unit", said, unit))
        if month.day != 1:
            problems.append(Problem("month", "must be a month's first day", month))
        elif add_months(month, 1) > self._now().date():
            problems.append(Problem("month", "is not over yet: close it once it has ended", where))
        if problems:
            raise ValidationError(f"{where} of {unit!r} was not closed.", problems)
        closed = self._closed(unit)
        if month in closed:
            return closed[month]
        at = self._now()
        made = self._made(unit, month, add_months(month, 1), self._charged(unit, month), closed)
        frozen = replace(made, closed_at=at, closed_by=self.actor)
        booked = None if frozen.to_book is None else str(frozen.to_book)
        after = {"month": where, "mode": frozen.mode, "cost": str(frozen.cost), "to_book": booked}
        with self._db.transaction():
            self._store.close(unit, month, _stored().dump_json(frozen).decode(), at, self.actor)
            self._record(
                "statement.close",
                "business_unit",
                unit,
                None,
                after,
                changed=[("closed_statements", {"business_unit": unit, "month": month})],
            )
        return frozen

    def _knows(self, unit: str) -> bool:
        """Whether ``unit`` is a business unit the ledger knows: an initiative's, a rule's or
        one with cost (the unallocated cost's among them). Looked for in that order, so that
        a unit with initiatives needs no cost report."""
        if any(i.business_unit == unit for i in PortfolioStore(self._db).initiatives()):
            return True
        if any(r.business_unit == unit for r in self._costs.allocation_rules().rules):
            return True
        charged = self._costs.cost_report(["business_unit"], every_unit=True)
        return any(line.business_unit == unit for line in charged)


def _said(setting: dict[str, Any]) -> dict[str, str | None]:
    month: date = setting["from_month"]
    return {"from_month": f"{month:%Y-%m}", "cost_centre": setting["cost_centre"]}


@cache
def _stored() -> TypeAdapter[Statement]:
    """How a closed statement is stored: its JSON, every decimal kept."""
    from pydantic import TypeAdapter

    return TypeAdapter(Statement)

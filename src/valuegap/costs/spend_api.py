"""Spend control's figures (``ledger.costs.spend``): daily spend (``costs.daily``), forecasts
against the business case's plan (``forecast.spend``), anomalies (``costs.anomaly``), and the
findings that alerts are raised from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from valuegap.costs.anomaly import THRESHOLD, WEEKS, Driver, Flag, drivers, flags
from valuegap.costs.daily import (
    DAILY_DIMENSIONS,
    DAY_KEYS,
    DailySums,
    LineKey,
    daily_sums,
    project,
)
from valuegap.costs.findings import anomaly_findings, forecast_findings
from valuegap.costs.scope import CostScope, cost_scope
from valuegap.costs.spend_results import (
    Anomaly,
    AnomalyReport,
    DailySpend,
    DrivingLine,
    Finding,
    ForecastLine,
    SpendForecast,
)
from valuegap.decimals import plain
from valuegap.errors import Problem, ValidationError
from valuegap.forecast.spend import PeriodForecast, PlanStatus, forecast_period, versus_plan
from valuegap.months import (
    add_months,
    check_days,
    day_problems,
    month_start,
    month_starts,
    months_apart,
)
from valuegap.session import Part, Session
from valuegap.store.portfolio import PortfolioStore

if TYPE_CHECKING:
    from valuegap.costs.api import Costs

ZERO = Decimal(0)
MAX_MONTHS = 120  # the longest period forecast
MAX_DAYS = 1100  # the most days of daily spend or anomalies asked at once: three years
ANOMALY_DAYS = 7  # the days ``anomalies`` and ``findings`` look at by default
Convert = Callable[[Decimal, str | None, date], Decimal]


class Spend(Part):
    """Daily spend, forecasts and anomalies, allocated as the cost report allocates."""

    def __init__(self, session: Session, costs: Costs, convert: Convert) -> None:
        super().__init__(session)
        self._costs = costs
        self._convert = convert
        self._portfolio = PortfolioStore(session.db)

    def daily(
        self,
        by: Sequence[str] = ("initiative",),
        start: date | None = None,
        end: date | None = None,
    ) -> list[DailySpend]:
        """Allocated cost day by day in [start, end) (default: the last 28 days), summed by
        ``by`` (initiative, business_unit, provider, model). Manual costs, which are monthly,
        are not in it."""
        self._require("read")
        keys = _checked(by)
        start, end = _window(
            (start, end), ("start", "end"), self._today(), 28, "Daily spend cannot be summed."
        )
        sums = self._sums(start, end, cost_scope(self._session))
        currency = self.settings.reporting_currency
        cost: dict[tuple[date, LineKey], Decimal] = defaultdict(lambda: ZERO)
        estimated: dict[tuple[date, LineKey], Decimal] = defaultdict(lambda: ZERO)
        for series, days in sums.series(keys, start, end).items():
            for day, amount in days.items():
                cost[(day, series)] += amount
        for (day, line), amount in sums.estimated.items():
            if start <= day < end:
                estimated[(day, project(line, keys))] += amount
        return [
            DailySpend(
                **_named(keys, series),
                day=day,
                cost=plain(amount),
                estimated=plain(estimated[(day, series)]),
                currency=currency,
            )
            for (day, series), amount in sorted(cost.items(), key=lambda kv: _order(kv[0]))
        ]

    def forecast(
        self,
        by: Sequence[str] = ("initiative",),
        month: date | None = None,
        months: int = 1,
        as_of: date | None = None,
        *,
        every_unit: bool = False,
    ) -> SpendForecast:
        """Each series' spend in the ``months`` months from ``month`` (default: this month)
        forecast by the period's end from the days before ``as_of`` (default: today), with a
        90 % interval (``forecast.spend``); by initiative, against its business case's planned
        investment. A contributor's, of their business units' cost (costs/scope.py), unless
        ``every_unit`` (what alerts are raised from)."""
        self._require("read")
        scope = None if every_unit else cost_scope(self._session)
        keys = _checked(by)
        today = as_of or self._today()
        _check_period(month, months, today)
        start = month or month_start(today)
        end = add_months(start, months)
        # From a month before the rates' window, to find where a new series began.
        load = month_start(add_months(min(start, today) - timedelta(days=28), -1))
        sums = self._sums(load, end, scope)
        series = sums.series(keys, load, end)
        manual: dict[LineKey, Decimal] = defaultdict(lambda: ZERO)
        for first_day in month_starts(start, end):
            for key, amount in sums.manual_of(keys, first_day).items():
                manual[key] += amount
        plans = self._plans(start, end, scope) if keys == ["initiative"] else {}
        lines = [
            self._forecast_line(
                keys, key, series.get(key, {}), manual.get(key, ZERO), start, end, today, plans
            )
            for key in sorted(set(series) | set(manual), key=lambda key: _order(((), key)))
        ]
        everything: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for days in series.values():
            for day, amount in days.items():
                everything[day] += amount
        total = _line(
            [],
            (),
            _forecast(everything, start, end, today),
            sum(manual.values(), ZERO),
            None,
            None,
            self.settings.reporting_currency,
        )
        days_left = (end - max(start, min(end, today))).days
        return SpendForecast(
            keys, start, end, today, days_left, self.settings.reporting_currency, lines, total
        )

    def anomalies(
        self,
        by: Sequence[str] = ("initiative",),
        since: date | None = None,
        until: date | None = None,
        threshold: Decimal = THRESHOLD,
        *,
        every_unit: bool = False,
    ) -> AnomalyReport:
        """The days in [since, until) (default: the last 7 days) whose spend departs from the
        same weekday's in the four weeks before, per series summed by ``by``, with the lines
        (initiative, business unit, provider, model) that drove each (``costs.anomaly``)."""
        self._require("read")
        scope = None if every_unit else cost_scope(self._session)
        keys = _checked(by)
        if threshold <= 0:
            said = "must be more than 0: how many scales (about standard deviations) off"
            raise ValidationError(
                "No anomalies can be looked for.", [Problem("threshold", said, threshold)]
            )
        start, end = _window(
            (since, until),
            ("since", "until"),
            self._today(),
            ANOMALY_DAYS,
            "No anomalies can be looked for.",
        )
        load = start - timedelta(weeks=2 * WEEKS)
        sums = self._sums(load, end, scope)
        by_series: dict[LineKey, dict[LineKey, dict[date, Decimal]]] = defaultdict(dict)
        for line, days in sums.lines(load, end).items():
            by_series[project(line, keys)][line] = days
        found = []
        currency = self.settings.reporting_currency
        for key, days in sums.series(keys, load, end).items():
            first = min((d for d, v in days.items() if v), default=None)
            for flag in flags(days, start, end, threshold):
                assert first is not None
                driving = drivers(by_series[key], flag, first)
                found.append(_anomaly(keys, key, flag, driving, currency))
        found.sort(key=lambda a: (a.day, -(a.score or Decimal("Infinity"))))
        return AnomalyReport(keys, start, end, WEEKS, threshold, currency, found)

    def findings(self, today: date | None = None) -> list[Finding]:
        """What alerts are raised from, as of ``today`` (default: today): each initiative
        whose month is forecast above its business case's planned investment (``planned``
        when the J-curve expected it), and the anomalies up (spend that runs away; a drop is
        not alerted) of the last 7 days by initiative: the whole organisation's, whoever asks
        (the server's hourly check runs as whoever started it)."""
        self._require("read")
        today = today or self._today()
        forecast = self.forecast(["initiative"], as_of=today, every_unit=True)
        since = today - timedelta(days=ANOMALY_DAYS)
        report = self.anomalies(["initiative"], since, today, every_unit=True)
        return [*forecast_findings(forecast), *anomaly_findings(report)]

    def _today(self) -> date:
        return self._now().date()

    def _sums(self, start: date, end: date, scope: CostScope | None) -> DailySums:
        """The daily sums of the months with a day in [start, end) (those ``scope`` sees, if
        given), kept until a write: a budget's status and the forecasts of a page ask for the
        same months again, and allocating them day by day takes a few hundred ms on a year of
        ten million events."""
        months = tuple(month_starts(month_start(start), end))

        def summed() -> DailySums:
            by = [*DAILY_DIMENSIONS, *DAY_KEYS]
            return daily_sums(self._costs.allocated_parts(by, months=months))

        everyones = self._db.cached(("daily_sums", months), summed)
        if scope is None:
            return everyones
        return self._db.cached(("daily_sums", months, scope), lambda: everyones.within(scope))

    def _plans(
        self, start: date, end: date, scope: CostScope | None
    ) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """Per initiative with a business case that has started (of ``scope``, if given): its
        planned investment in [start, end), its planned investment before ``start`` and its
        cost before ``start`` (all of it, as the J-curve counts it), in the reporting
        currency."""
        started = {}
        for initiative in self._portfolio.initiatives():
            if scope is not None and initiative.id not in scope.initiatives:
                continue
            entered = self._portfolio.stages_entered(initiative.id).get("poc")
            if initiative.business_case is not None and entered is not None:
                started[initiative.id] = (initiative.business_case, month_start(entered.date()))
        if not started:
            return {}
        report = self._costs.cost_report(["initiative"], None, start, every_unit=True)
        before = {line.initiative: line.cost for line in report}
        plans = {}
        for name, (case, first) in started.items():
            monthly = self._convert(Decimal(str(case.monthly_investment)), case.currency, first)
            months_in = sum(1 for m in month_starts(start, end) if m >= first)
            months_before = max(0, months_apart(first, start))
            plans[name] = (monthly * months_in, monthly * months_before, before.get(name, ZERO))
        return plans

    def _forecast_line(
        self,
        keys: list[str],
        key: LineKey,
        days: Mapping[date, Decimal],
        manual: Decimal,
        start: date,
        end: date,
        today: date,
        plans: Mapping[str, tuple[Decimal, ...]],
    ) -> ForecastLine:
        found = _forecast(days, start, end, today)
        plan = plans.get(str(key[0])) if plans else None
        planned: Decimal | None = None
        status: PlanStatus | None = None
        if plan is not None:
            planned, planned_before, spent_before = plan
            status = versus_plan(found.forecast + manual, planned, spent_before, planned_before)
        return _line(keys, key, found, manual, planned, status, self.settings.reporting_currency)


def _forecast(days: Mapping[date, Decimal], start: date, end: date, today: date) -> PeriodForecast:
    first = min((d for d, v in days.items() if v), default=None)
    return forecast_period({d: v for d, v in days.items() if d < today}, start, end, today, first)


def _line(
    keys: Sequence[str],
    key: LineKey,
    found: PeriodForecast,
    manual: Decimal,
    planned: Decimal | None,
    status: PlanStatus | None,
    currency: str,
) -> ForecastLine:
    def shifted(value: Decimal | None) -> Decimal | None:
        return None if value is None else plain(value + manual)

    return ForecastLine(
        **_named(keys, key),
        spent=plain(found.spent),
        manual=plain(manual),
        forecast=plain(found.forecast + manual),
        low=shifted(found.low),
        high=shifted(found.high),
        weekday_rate=plain(round(found.rates.weekday, 10)),
        weekend_rate=plain(round(found.rates.weekend, 10)),
        planned=None if planned is None else plain(round(planned, 10)),
        status=status,
        currency=currency,
    )


def _anomaly(
    keys: list[str], key: LineKey, flag: Flag, driving: Sequence[Driver[LineKey]], currency: str
) -> Anomaly:
    lines = [
        DrivingLine(
            **_named(DAILY_DIMENSIONS, d.line),
            cost=plain(d.spend),
            expected=plain(d.median),
            change=plain(d.change),
        )
        for d in driving
    ]
    score = None if flag.score is None else plain(round(flag.score, 4))
    return Anomaly(
        **_named(keys, key),
        day=flag.day,
        cost=plain(flag.spend),
        expected=plain(flag.median),
        scale=plain(round(flag.scale, 10)),
        score=score,
        direction=flag.direction,
        since=flag.since,
        lines=lines,
        currency=currency,
    )


def _checked(by: Sequence[str]) -> list[str]:
    keys = list(dict.fromkeys(by))
    wrong = [k for k in keys if k not in DAILY_DIMENSIONS]
    if wrong or not keys:
        said = f"must be one or more of {', '.join(DAILY_DIMENSIONS)}"
        raise ValidationError(
            "Daily spend cannot be summed so.", [Problem("by", said, ",".join(wrong or by))]
        )
    return keys


def _check_period(month: date | None, months: int, today: date) -> None:
    problems = []
    if month is not None and month.day != 1:
        problems.append(Problem("month", "must be the first day of a month", month))
    if not 1 <= months <= MAX_MONTHS:
        problems.append(Problem("months", f"must be from 1 to {MAX_MONTHS}", months))
    problems += day_problems(month=month, as_of=today)
    if problems:
        raise ValidationError("The forecast cannot be made.", problems)


def _window(
    asked: tuple[date | None, date | None],
    names: tuple[str, str],
    today: date,
    days: int,
    refused: str,
) -> tuple[date, date]:
    """Days [start, end) as ``asked`` (named ``names``), by default the ``days`` before
    ``today``; checked."""
    check_days(refused, **dict(zip(names, asked, strict=True)))
    end = asked[1] or today
    start = asked[0] or end - timedelta(days=days)
    if start >= end:
        raise ValidationError(refused, [Problem(names[0], f"must be before the end, {end}", start)])
    if (end - start).days > MAX_DAYS:
        said = f"must be at most {MAX_DAYS} days before the end"
        raise ValidationError(refused, [Problem(names[0], said, start)])
    return start, end


def _named(keys: Sequence[str], key: LineKey) -> dict[str, str | None]:
    return dict(zip(keys, key, strict=True))


def _order(item: tuple[object, LineKey]) -> tuple[object, ...]:
    """Days in order, then series; none last."""
    head, key = item
    return (head, tuple((value is None, value or "") for value in key))

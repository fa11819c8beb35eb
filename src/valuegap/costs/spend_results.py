"""What spend control reports (``ledger.costs.spend``): daily spend, forecasts, anomalies, and
the findings that alerts are raised from."""

from __future__ import annotations

from datetime import date
from typing import Literal

from valuegap.forecast.spend import PlanStatus
from valuegap.records import record
from valuegap.results import Money, Quantity

FindingKind = Literal["forecast_overrun", "spend_anomaly"]


@record(kw_only=True)
class Series:
    """The dimensions a line is summed by; one it is not summed by is None (as is one the
    cost has no value of: a manual cost's provider)."""

    initiative: str | None = None
    business_unit: str | None = None
    provider: str | None = None
    model: str | None = None

    def subject(self, by: tuple[str, ...] | list[str]) -> str:
        """The series in words, as alerts name it: ``initiative=loc-qa, provider=openai``."""
        return ", ".join(f"{k}={getattr(self, k) or '(none)'}" for k in by)


@record(kw_only=True)
class DailySpend(Series):
    """A day's allocated cost of a series: ``estimated`` is the part of it that is usage no
    invoice covers yet."""

    day: date
    cost: Money
    estimated: Money
    currency: str


@record(kw_only=True)
class ForecastLine(Series):
    """A series' spend in the period, so far and forecast by its end (``forecast.spend``)."""

    spent: Money  # metered spend (bills and usage) of the days that have ended
    manual: Money  # manual costs entered for the period's months, added as entered
    forecast: Money  # spent + the days left at the weekday and weekend rates + manual
    low: Money | None  # the 90 % interval; None: too few days to estimate it
    high: Money | None
    weekday_rate: Money
    weekend_rate: Money
    planned: Money | None  # the business case's investment in the period; None: no plan
    status: PlanStatus | None  # within_plan | planned_overrun | over_plan; None: no plan
    currency: str


@record
class SpendForecast:
    """Forecasts of the period [start, end) as of ``today`` (the first day not counted yet),
    one line per series, and the total (forecast from the sum of every series)."""

    by: list[str]
    start: date
    end: date
    today: date
    days_left: int
    currency: str
    lines: list[ForecastLine]
    total: ForecastLine


@record(kw_only=True)
class DrivingLine(Series):
    """A line (initiative, business unit, provider, model) that drove an anomaly: its cost on
    the day, against its own median over the same baseline days."""

    cost: Money
    expected: Money
    change: Money


@record(kw_only=True)
class Anomaly(Series):
    """A day whose spend departs from the same weekday's in the four weeks before
    (``costs.anomaly``)."""

    day: date
    cost: Money
    expected: Money  # the baseline's median
    scale: Money  # max(1.4826 x MAD, 5 % of the median)
    score: Quantity | None  # |cost - expected| / scale; None when the scale is 0
    direction: Literal["up", "down"]
    since: date  # the first day of the run of anomalous days it belongs to
    lines: list[DrivingLine]
    currency: str


@record
class AnomalyReport:
    """The anomalous days of [start, end), per series summed by ``by``."""

    by: list[str]
    start: date
    end: date
    weeks: int  # the baseline: the same weekday in this many weeks before
    threshold: Quantity
    currency: str
    anomalies: list[Anomaly]


@record
class Finding:
    """What an alert is raised from: a forecast overrun (a series whose month is forecast
    above its business case's planned investment) or a spend anomaly. ``key`` is the same for
    the same finding however often it is found (a forecast: its subject, month and status; an
    anomaly: its subject and the first day of its run), so that it is alerted once."""

    kind: FindingKind
    key: str
    subject: str  # initiative=loc-qa
    period: str  # a forecast's month (YYYY-MM); an anomaly's first day (YYYY-MM-DD)
    planned: bool  # a forecast overrun that the business case's J-curve expected
    message: str
    figures: dict[str, Money]
    currency: str
    lines: list[DrivingLine]

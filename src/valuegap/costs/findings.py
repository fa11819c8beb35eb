"""The findings that alerts are raised from (``ledger.costs.spend.findings``): a month forecast
above an initiative's planned investment, and spend that runs away (an anomaly up). Each has a
key that is the same however often it is found, so that an alert is raised once."""

from __future__ import annotations

from decimal import Decimal

from valuegap.costs.spend_results import AnomalyReport, Finding, SpendForecast
from valuegap.decimals import money
from valuegap.results import Money


def forecast_findings(forecast: SpendForecast) -> list[Finding]:
    """Each line of ``forecast`` above its planned investment: ``planned`` when the J-curve
    expected it (``planned_overrun``). Its key: subject, month and status (an overrun that
    turns from planned to unplanned is found anew)."""
    month = f"{forecast.start:%Y-%m}"
    found = []
    for line in forecast.lines:
        if line.status not in ("planned_overrun", "over_plan") or line.planned is None:
            continue
        subject = line.subject(forecast.by)
        planned = line.status == "planned_overrun"
        said = "as the business case's J-curve expected" if planned else "which it did not plan"
        message = (
            f"{subject}: {month} is forecast at {_shown(line.forecast, line.currency)}, above "
            f"its planned investment of {_shown(line.planned, line.currency)}, {said}."
        )
        figures: dict[str, Money] = {
            "forecast": line.forecast,
            "planned": line.planned,
            "spent": line.spent,
            "manual": line.manual,
        }
        if line.low is not None and line.high is not None:
            figures |= {"low": line.low, "high": line.high}
        key = f"forecast_overrun:{subject}:{month}:{line.status}"
        found.append(
            Finding(
                "forecast_overrun",
                key,
                subject,
                month,
                planned,
                message,
                figures,
                line.currency,
                [],
            )
        )
    return found


def anomaly_findings(report: AnomalyReport) -> list[Finding]:
    """Each anomaly up of ``report`` (a drop is in the report, not alerted). Its key: subject
    and the first day of its run, so a plateau is one finding."""
    found = []
    for anomaly in report.anomalies:
        if anomaly.direction != "up":
            continue
        subject = anomaly.subject(report.by)
        message = (
            f"{subject}: {anomaly.day} cost {_shown(anomaly.cost, anomaly.currency)}, against "
            f"{_shown(anomaly.expected, anomaly.currency)} on the same weekday before (since "
            f"{anomaly.since})."
        )
        figures = {"cost": anomaly.cost, "expected": anomaly.expected, "scale": anomaly.scale}
        key = f"spend_anomaly:{subject}:{anomaly.since}"
        found.append(
            Finding(
                "spend_anomaly",
                key,
                subject,
                f"{anomaly.since}",
                False,
                message,
                figures,
                anomaly.currency,
                anomaly.lines,
            )
        )
    return found


def _shown(amount: Decimal, currency: str) -> str:
    return f"{money(amount, currency)} {currency}"

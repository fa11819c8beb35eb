"""The alerts of spend control's forecasts and anomalies: a ``Finding`` of
``ledger.costs.spend.findings`` as a ``RaisedAlert``, and a budget whose spend is forecast
above its amount. ``Alerts.check`` raises them (``costs.alerts``), each once: the alert's kind,
subject, period and level are the finding's key, which is the same however often it is found.

A forecast overrun that the business case's J-curve expected is raised too, at the level
``planned_overrun`` and saying so: a sponsor is told that the plan spends this money now (a
slow start catching up), and told again, at the level ``over_plan``, if it turns into spend the
plan did not expect.
"""

from __future__ import annotations

from decimal import Decimal

from valuegap.costs.alerts import RaisedAlert
from valuegap.costs.budget_periods import BudgetStatus
from valuegap.costs.spend_results import DrivingLine, Finding
from valuegap.decimals import money, plain

MAX_LINES = 5  # the driving lines an anomaly's alert names


def finding_alert(finding: Finding) -> RaisedAlert:
    """``finding`` as an alert: identified by its key's parts (kind, subject, period and the
    status of a forecast, ``planned_overrun`` or ``over_plan``; ``up`` for an anomaly)."""
    figures = finding.figures
    details = {name: str(plain(value)) for name, value in figures.items()}
    if finding.kind == "forecast_overrun":  # its message says whether the J-curve expected it
        level = "planned_overrun" if finding.planned else "over_plan"
        value, reference = figures["forecast"], figures["planned"]
        details["planned"] = "yes" if finding.planned else "no"
    else:
        level = "up"
        value, reference = figures["cost"], figures["expected"]
        for n, line in enumerate(finding.lines[:MAX_LINES], 1):
            details[f"line_{n}"] = _line(line)
    return RaisedAlert(
        kind=finding.kind,
        subject=finding.subject,
        period=finding.period,
        level=level,
        message=finding.message,
        value=value,
        reference=reference,
        currency=finding.currency,
        details=details,
    )


def forecast_alert(status: BudgetStatus, currency: str) -> RaisedAlert | None:
    """The alert of a budget whose scope's spend is forecast above its amount by the end of
    its period (None if it is not, or has no forecast), at the level ``forecast``."""
    if status.forecast is None or status.forecast <= status.amount:
        return None
    details = {"scope": status.scope, "scope_value": status.value, "spent": str(status.spent)}
    interval = ""
    low, high = status.forecast_low, status.forecast_high
    if low is not None and high is not None:
        interval = f" (90 %: {_shown(low, currency)} to {_shown(high, currency)})"
        details |= {"low": str(low), "high": str(high)}
    message = (
        f"budget {status.budget} ({status.scope} {status.value}) in {status.period}: spend is "
        f"forecast at {_shown(status.forecast, currency)}{interval} by the period's end, above "
        f"the budget of {_shown(status.amount, currency)}; {_shown(status.spent, currency)} "
        "spent so far."
    )
    return RaisedAlert(
        kind="forecast_overrun",
        subject=f"budget:{status.budget}",
        period=status.period,
        level="forecast",
        message=message,
        value=status.forecast,
        reference=status.amount,
        currency=currency,
        details=details,
    )


def _line(line: DrivingLine) -> str:
    named = ", ".join(
        f"{k}={getattr(line, k) or '(none)'}"
        for k in ("initiative", "business_unit", "provider", "model")
    )
    return f"{named}: {plain(line.cost)} against {plain(line.expected)}"


def _shown(amount: Decimal, currency: str) -> str:
    return f"{money(amount, currency)} {currency}"

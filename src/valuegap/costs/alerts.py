"""Alerts (``ledger.costs.alerts``): what spend control tells people, recorded in the ledger
and delivered to webhooks.

Whatever raises an alert gives a ``RaisedAlert`` to ``raise_alerts`` in its transaction: a
budget's threshold passed, in the write that made it true (``costs.budgets``); a forecast
overrun or a spend anomaly, in ``check`` (``costs.spend_alerts``: not on every write, as it
reads months of daily spend). An alert is identified by its kind, subject, period and level:
raising the same one again changes nothing, so each threshold of each budget period alerts
once however often cost is written, and each finding once however often it is found. Each
new alert gets a pending delivery to every webhook in the settings
(``alert_webhooks``); once the transaction commits, ``deliver`` sends them (``webhooks.py``),
and a delivery is marked delivered when the webhook answers 2xx, so that it is never sent
again. What fails stays pending for the next write that raises alerts, ``valuegap alert
deliver`` or the server's start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args

from valuegap.costs.scope import CostScope, budget_ids, cost_scope
from valuegap.errors import Problem, ValidationError
from valuegap.records import record
from valuegap.results import Money
from valuegap.session import Part, Session
from valuegap.store.alerts import AlertStore
from valuegap.store.database import Database

AlertKind = Literal["budget_threshold", "forecast_overrun", "spend_anomaly"]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
DELIVERY_STATES = ("pending", "delivered", "failed")
log = logging.getLogger("valuegap.alerts")


@record
class RaisedAlert:
    """An alert as its raiser gives it. ``kind`` is one of ``ALERT_KINDS``; ``subject`` what
    it is about (``budget:<id>``, ``initiative:<id>``...); ``period`` when (``2026-03``, a
    day, ``2026-01..2026-06``); ``level`` tells apart the alerts of one subject and period
    (a threshold, ``80%``). ``value`` is what was measured (spend, a forecast, a day's spend),
    ``reference`` what it is measured against (the budget, the expected spend), ``threshold``
    the share of the reference that was passed, all in ``currency``."""

    kind: AlertKind
    subject: str
    period: str
    level: str
    message: str
    value: Decimal | None = None
    reference: Decimal | None = None
    threshold: Decimal | None = None
    currency: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@record
class Delivery:
    """An alert's delivery to one webhook (named as in the settings)."""

    webhook: str
    state: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


@record
class Alert:
    id: int
    kind: AlertKind
    subject: str
    period: str
    level: str
    message: str
    value: Money | None
    reference: Money | None
    threshold: Decimal | None  # the share of the reference passed: 0.8 for 80 %
    currency: str | None
    details: dict[str, str]
    raised_at: datetime
    deliveries: list[Delivery]


def _alert(row: Mapping[str, Any]) -> Alert:
    deliveries = [
        Delivery(d["webhook"], d["state"], d["attempts"], d["last_error"], d["delivered_at"])
        for d in row.get("deliveries", ())
    ]
    names = ("id", "kind", "subject", "period", "level", "message", "value", "reference")
    found = {name: row[name] for name in names}
    return Alert(
        **found,
        threshold=row["threshold"],
        currency=row["currency"],
        details=dict(row["details"]),
        raised_at=row["raised_at"],
        deliveries=deliveries,
    )


def _subjects(db: Database, scope: CostScope) -> list[str]:
    """The subjects of the alerts that ``scope`` sees: its budgets' and its initiatives'."""
    initiatives = [f"initiative={initiative}" for initiative in scope.initiatives]
    return sorted({f"budget:{budget}" for budget in budget_ids(db, scope)}) + initiatives


class Alerts(Part):
    """Alerts raised by spend control, and their delivery to webhooks."""

    def __init__(
        self, session: Session, findings: Callable[[date], list[RaisedAlert]] | None = None
    ) -> None:
        super().__init__(session)
        self._store = AlertStore(session.db)
        self._findings = findings

    def check(self, on: date | None = None) -> list[Alert]:
        """Raise the alerts of spend control's forecasts and anomalies as of the day ``on``
        (default: today; ``costs.spend_alerts``): this month's forecast overruns, by initiative
        against its business case and by budget, and the last 7 days' anomalies up by
        initiative. Those raised before are not raised again; returns the new ones. Not run
        on every cost write (it reads months of daily spend): ``valuegap alert check``, or the
        server every hour."""
        from valuegap.costs.spend_api import ANOMALY_DAYS
        from valuegap.months import EARLIEST, LATEST

        self._require("cost.write")
        first = EARLIEST + timedelta(days=ANOMALY_DAYS)  # the first whose week can be read
        if on is not None and not first <= on <= LATEST:
            said = f"must be from {first} to {LATEST}"
            raise ValidationError("No alert can be checked.", [Problem("on", said, on)])
        return self._check(on or self._now().date())

    def check_owed(self) -> int:
        """``check`` as of today without asking ``cost.write`` (the server's hourly check, as
        the account that started it: reading the spend asks ``read``); how many were new."""
        return len(self._check(self._now().date()))

    def _check(self, day: date) -> list[Alert]:
        # Read before writing: the ledger's writer is not held while months of spend are read.
        found = self._findings(day) if self._findings is not None else []
        with self._db.transaction():
            ids = self.raise_alerts(found)
        return [_alert(row) for row in self._store.alerts(ids=ids)] if ids else []

    def raise_alerts(self, raised: Sequence[RaisedAlert]) -> list[int]:
        """Record the alerts not raised before (in the caller's transaction, with no permission
        asked: a write that changed cost raises them), each with a pending delivery to every
        webhook; their ids. The deliveries are sent once the caller's transaction commits."""
        webhooks = [hook.name for hook in self.settings.alert_webhooks]
        new = []
        for alert in raised:
            if alert.kind not in ALERT_KINDS:
                raise ValueError(f"not an alert kind: {alert.kind}")
            added = self._store.add(vars(alert), webhooks, self._now())
            if added is not None:
                new.append(added)
        if new and webhooks:
            self._db.after_writing(self._deliver_quietly)
        return new

    def alerts(
        self, kind: str | None = None, subject: str | None = None, limit: int | None = None
    ) -> list[Alert]:
        """The alerts raised, newest first (of ``kind``, about ``subject``; the ``limit``
        newest), each with its deliveries; a contributor's, about their business units'
        budgets and initiatives."""
        self._require("read")
        problems = []
        if kind is not None and kind not in ALERT_KINDS:
            problems.append(Problem("kind", f"must be one of {', '.join(ALERT_KINDS)}", kind))
        if limit is not None and limit < 1:
            problems.append(Problem("limit", "must be 1 or more", limit))
        if problems:
            raise ValidationError("The alerts cannot be listed.", problems)
        scope = cost_scope(self._session)
        subjects = None if scope is None else _subjects(self._db, scope)
        return [_alert(row) for row in self._store.alerts(kind, subject, limit, among=subjects)]

    def deliver(self) -> list[Alert]:
        """Send the pending deliveries (each webhook tried up to ``webhook_attempts`` times,
        with backoff) and record what became of them; returns the alerts that had any."""
        self._require("cost.write")
        return self._deliver()

    def deliver_owed(self) -> int:
        """``deliver`` with no permission asked: what the ledger owes its webhooks (the
        alerts already raised; the server sends them when it starts). How many alerts had a
        pending delivery."""
        return len(self._deliver())

    def _deliver(self) -> list[Alert]:
        from valuegap.costs.webhooks import deliver_pending

        ids = deliver_pending(self._db, self.settings, self._now)
        return [_alert(row) for row in self._store.alerts(ids=ids)] if ids else []

    def _deliver_quietly(self) -> None:
        """Deliver after a write, which has committed: a webhook that fails leaves its
        delivery pending (recorded with its error), and nothing makes the write fail."""
        try:
            self._deliver()
        except Exception:  # the write is done: what went wrong is logged, and stays pending
            log.exception("Alerts were raised but not all delivered; `valuegap alert deliver`")

"""Delivering alerts to webhooks: each pending delivery is POSTed (the body its webhook's shape
asks for, ``model.webhooks``), tried up to ``webhook_attempts`` times with a doubling backoff,
and its outcome recorded at once in a transaction of its own: a delivery answered 2xx is
delivered and never sent again; one that fails keeps its error (the webhook shown by its host
only: its URL may be its secret) and stays pending for the next run.

Exactly once from the ledger's point of view: one process writes a ledger file at a time, and
within it one delivery run at a time (``_running``). A receiver that must not show an alert
twice, even when the ledger could not record its answer (the process died after the POST),
deduplicates on the header ``Valuegap-Alert``: the ledger's id and the alert's.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from valuegap.decimals import plain
from valuegap.model.webhooks import Webhook, shown_url
from valuegap.settings import Settings
from valuegap.store.alerts import AlertStore
from valuegap.store.database import LEDGER_ID, Database

# After this many failed attempts in all, a delivery is given up (state ``failed``).
MAX_ATTEMPTS = 30
TIMEOUT = 10  # seconds a webhook has to answer one POST

_running = threading.Lock()


def deliver_pending(db: Database, settings: Settings, now: Callable[[], datetime]) -> list[int]:
    """Send every pending delivery; the ids of the alerts that had one."""
    hooks = {hook.name: hook for hook in settings.alert_webhooks}
    store = AlertStore(db)
    touched: list[int] = []
    with _running:
        ledger = db.get_meta(LEDGER_ID) or ""
        for row in store.pending():
            alert, name = row["id"], row["webhook"]
            hook = hooks.get(name)
            if hook is None:
                continue  # no longer in the settings: it waits until it is again
            touched.append(alert)
            error, tries = _post(hook, row, f"{ledger}:{alert}", settings)
            with db.transaction():
                store.attempted(alert, name, tries, error, now())
                if error is not None and row["attempts"] + tries >= MAX_ATTEMPTS:
                    store.give_up(alert, name, now())
    return list(dict.fromkeys(touched))


def _post(
    hook: Webhook, row: dict[str, Any], key: str, settings: Settings
) -> tuple[str | None, int]:
    """POST the alert ``row`` to ``hook``, retrying with backoff: the error of the last try
    (naming the webhook by its host only; None once it is taken), and how many tries."""
    alert = alert_json(row)
    body = json.dumps(hook.body(alert, alert_text(row))).encode()
    wait = settings.webhook_backoff
    error = None
    for attempt in range(settings.webhook_attempts):
        if attempt:
            time.sleep(wait)
            wait *= 2
        error = _send(hook, body, key)
        if error is None:
            return None, attempt + 1
    return error, settings.webhook_attempts


def _send(hook: Webhook, body: bytes, key: str) -> str | None:
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Valuegap-Alert": key},
    )
    where = shown_url(hook.url)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        return f"{where} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{where} could not be reached ({type(reason).__name__})"
    return None if 200 <= status < 300 else f"{where} answered HTTP {status}"


def alert_json(row: dict[str, Any]) -> dict[str, Any]:
    """An alert as the generic JSON webhook receives it."""
    money = ("value", "reference", "threshold")
    return {
        "id": row["id"],
        "kind": row["kind"],
        "subject": row["subject"],
        "period": row["period"],
        "level": row["level"],
        "message": row["message"],
        **{k: None if row[k] is None else str(plain(row[k])) for k in money},
        "currency": row["currency"],
        "details": json.loads(row["details"])
        if isinstance(row["details"], str)
        else row["details"],
        "raised_at": row["raised_at"].isoformat(),
    }


def alert_text(row: dict[str, Any]) -> str:
    """An alert in one line, for a chat message."""
    return f"valuegap {row['kind'].replace('_', ' ')}: {row['message']}"

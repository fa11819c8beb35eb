"""The webhooks alerts are delivered to (setting ``alert_webhooks``), and the body each shape
of webhook is sent.

- ``json``: the alert itself, as ``valuegap alert list --format json`` shows it.
- ``slack``: a Slack incoming webhook's message, ``{"text": ...}``.
- ``teams``: a Microsoft Teams incoming webhook's MessageCard, whose minimal form is its
  ``@type``, ``@context``, a ``summary`` and a ``text``.

A webhook's URL often holds its secret (a Slack URL is the credential itself), so it is shown
only as its scheme and host (``shown_url``), and the ledger records a webhook by its name.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from valuegap.errors import Problem
from valuegap.records import record

SHAPES = ("json", "slack", "teams")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@record
class Webhook:
    name: str  # how the ledger and its messages name it
    url: str = field(repr=False)  # may be the webhook's secret
    shape: str = "json"

    def problems(self) -> list[Problem]:
        """What is wrong with it (empty: nothing)."""
        found = []
        if not _NAME.match(self.name):
            said = "must be lower-case letters, digits, '-' and '_' (up to 64)"
            found.append(Problem("name", said, self.name))
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            found.append(Problem(f"{self.name}.url", "must be an http(s) URL", shown_url(self.url)))
        if self.shape not in SHAPES:
            said = f"must be one of {', '.join(SHAPES)}"
            found.append(Problem(f"{self.name}.shape", said, self.shape))
        return found

    def body(self, alert: Mapping[str, Any], text: str) -> dict[str, Any]:
        """What is POSTed for ``alert`` (its JSON form), whose one line is ``text``."""
        if self.shape == "slack":
            return {"text": text}
        if self.shape == "teams":
            return {
                "@type": "MessageCard",
                "@context": "http://schema.org/extensions",
                "summary": text[:80],
                "text": text,
            }
        return dict(alert)


def shown_url(url: str) -> str:
    """A webhook's URL as it may be shown: its scheme and host, never its path or query."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port number
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"

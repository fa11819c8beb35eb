"""Signing in as a browser does, for the pages' tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import Served

PASSWORD = "a-long-enough-password"


def signed_in(served: Served, name: str) -> TestClient:
    """A client with ``name``'s browser session (its cookie), as the sign-in page leaves it."""
    served.ledger.governance.credentials.set_password(name, PASSWORD)
    client = TestClient(served.anonymous.app)
    answer = client.post("/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def figures(page: str) -> dict[str, str]:
    """The headline numbers of a page, by their ``data-testid``."""
    return dict(re.findall(r'data-testid="([^"]+)"[^>]*>([^<]*)<', page))

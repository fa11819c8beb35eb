"""Who may call the server: API tokens, browser sessions with CSRF tokens, sign-in rate
limits, and routes that each declare the permission they need."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from valuegap import Ledger
from valuegap.web.app import create_app
from valuegap.web.auth import CSRF_HEADER, PERMISSION_KEY, acting, api_router

PASSWORD = "correct horse battery staple"


@pytest.fixture
def served(ledger: Ledger) -> Iterator[tuple[Ledger, FastAPI]]:
    ledger.governance.users.add_user("vera", "viewer")
    ledger.governance.users.add_user("fiona", "finance")
    ledger.governance.credentials.set_password("vera", PASSWORD)
    app = create_app(ledger)
    echo = api_router(tags=["test"])

    @echo.post("/echo")
    def post_echo(ledger: Annotated[Ledger, acting("read")]) -> dict[str, str]:
        return {"actor": ledger.actor}

    @echo.post("/money")
    def post_money(ledger: Annotated[Ledger, acting("cost.write")]) -> dict[str, str]:
        return {"actor": ledger.actor}

    app.include_router(echo, prefix="/api/v1")
    yield ledger, app


def _bearer(ledger: Ledger, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ledger.governance.credentials.create_token(user).secret}"}


def test_without_credentials_only_healthz_answers(served: tuple[Ledger, FastAPI]) -> None:
    _, app = served
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/echo")):
        response = client.request(method, path)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "urn:valuegap:problem:unauthenticated"


def test_a_token_acts_as_its_user_and_only_within_the_role(
    served: tuple[Ledger, FastAPI],
) -> None:
    ledger, app = served
    client = TestClient(app)
    vera = _bearer(ledger, "vera")
    assert client.get("/api/v1/me", headers=vera).json()["name"] == "vera"
    assert client.post("/api/v1/echo", headers=vera).json() == {"actor": "vera"}
    refused = client.post("/api/v1/money", headers=vera)
    assert refused.status_code == 403
    assert "needs the role finance or admin" in refused.json()["detail"]
    assert client.post("/api/v1/money", headers=_bearer(ledger, "fiona")).status_code == 200
    for header in ("Bearer vgt_nothing_here", "Basic dmVyYTp4", vera["Authorization"] + "x"):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_a_revoked_token_is_refused_at_once(served: tuple[Ledger, FastAPI]) -> None:
    ledger, app = served
    made = ledger.governance.credentials.create_token("vera")
    client = TestClient(app, headers={"Authorization": f"Bearer {made.secret}"})
    assert client.get("/api/v1/me").status_code == 200
    ledger.governance.credentials.revoke_token(made.token.id)
    assert client.get("/api/v1/me").status_code == 401


def test_a_browser_signs_in_and_its_changes_need_the_csrf_token(
    served: tuple[Ledger, FastAPI],
) -> None:
    _, app = served
    browser = TestClient(app, base_url="https://valuegap.example")
    signed_in = browser.post("/login", json={"name": "vera", "password": PASSWORD})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "secure", "path=/"):
        assert attribute in cookie
    csrf = signed_in.json()["csrf_token"]
    assert browser.get("/api/v1/me").json()["name"] == "vera"
    assert browser.post("/api/v1/echo").status_code == 403  # no CSRF token
    assert browser.post("/api/v1/echo", headers={CSRF_HEADER: "forged"}).status_code == 403
    assert browser.post("/api/v1/echo", headers={CSRF_HEADER: csrf}).json() == {"actor": "vera"}
    assert browser.post("/logout").status_code == 204
    assert browser.get("/api/v1/me").status_code == 401


def test_failed_sign_ins_are_limited(served: tuple[Ledger, FastAPI]) -> None:
    _, app = served
    client = TestClient(app)
    for _ in range(5):
        wrong = client.post("/login", json={"name": "vera", "password": "wrong password!"})
        assert wrong.status_code == 401
    limited = client.post("/login", json={"name": "vera", "password": PASSWORD})
    assert limited.status_code == 429  # even with the right password, for now
    assert 0 < int(limited.headers["retry-after"]) <= 900
    assert limited.json()["type"] == "urn:valuegap:problem:too-many-attempts"


def test_every_response_carries_the_security_headers(served: tuple[Ledger, FastAPI]) -> None:
    _, app = served
    for response in (TestClient(app).get("/healthz"), TestClient(app).get("/api/v1/me")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    over_https = TestClient(app, base_url="https://valuegap.example").get("/healthz")
    assert over_https.headers["strict-transport-security"].startswith("max-age=")


def test_a_body_over_the_limit_is_refused(ledger: Ledger) -> None:
    token = _bearer(ledger, "alice")
    client = TestClient(create_app(ledger, max_request_bytes=1000), headers=token)
    response = client.post("/login", content=b"x" * 1001)
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(20):
            yield b"y" * 100

    assert client.post("/login", content=streamed()).status_code == 413


def test_a_route_must_declare_its_permission(served: tuple[Ledger, FastAPI]) -> None:
    router = api_router()
    with pytest.raises(RuntimeError, match="declares no permission"):

        @router.get("/open")
        def open_route() -> dict[str, str]:
            return {}

    _, app = served
    paths = app.openapi()["paths"]
    assert paths["/api/v1/me"]["get"][PERMISSION_KEY] == "read"
    assert paths["/api/v1/money"]["post"][PERMISSION_KEY] == "cost.write"


def test_a_command_on_a_served_ledger_says_where_the_server_is(
    db_path: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from valuegap.errors import LedgerBusy
    from valuegap.store.file_lock import announced, serving

    Ledger.init(db_path, actor="alice").close()
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True)"
    holder = subprocess.Popen(  # another process holds the file, as a server would
        [sys.executable, "-c", hold + "; time.sleep(60)", str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        note = db_path.with_name(f"{db_path.name}.server.json")
        note.write_text(f'{{"url": "http://127.0.0.1:8123", "pid": {holder.pid}}}')
        with pytest.raises(LedgerBusy, match=r"held by valuegap serve at http://127.0.0.1:8123"):
            Ledger.open(db_path, actor="alice")  # at once, not after lock_timeout
    finally:
        holder.kill()
        holder.wait()
    assert serving(db_path) is None  # the server's process is gone: its note says nothing
    with announced(db_path, "http://127.0.0.1:9000"):
        found = serving(db_path)
        assert found == {"url": "http://127.0.0.1:9000", "pid": os.getpid()}
    assert not db_path.with_name(f"{db_path.name}.server.json").exists()

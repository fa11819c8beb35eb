"""The one shape of every error: RFC 9457 problem details, ``application/problem+json``,
with exactly the documented keys; one example of each status the server answers with."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from valuegap.web.app import create_app

from ..conftest import EXAMPLES
from .conftest import Server, with_cell

KEYS = {"type", "title", "status", "detail"}


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:valuegap:problem:{kind}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_401_without_credentials(demo_server: Server) -> None:
    body = problem(demo_server.client(None).get("/api/v1/rules"), 401, "unauthenticated")
    assert set(body) == KEYS


def test_401_of_a_revoked_token(empty_server: Server) -> None:
    client = empty_server.client()
    made = client.post("/api/v1/tokens", json={"user": "you"}).json()
    assert client.delete(f"/api/v1/tokens/{made['token']['id']}").status_code == 200
    revoked = TestClient(empty_server.app, headers={"Authorization": f"Bearer {made['secret']}"})
    body = problem(revoked.get("/api/v1/me"), 401, "unauthenticated")
    assert set(body) == KEYS


def test_403_of_a_role_too_small(demo_server: Server) -> None:
    rules = (EXAMPLES / "rules.yaml").read_bytes()
    response = demo_server.client("exec.board").put(
        "/api/v1/rules", files={"file": ("rules.yaml", rules)}
    )
    body = problem(response, 403, "forbidden")
    assert set(body) == KEYS
    assert "exec.board (viewer)" in body["detail"]


def test_404_of_an_unknown_initiative(demo_server: Server) -> None:
    body = problem(
        demo_server.client().get("/api/v1/reports/initiatives/no-such"), 404, "not-found"
    )
    assert set(body) == KEYS
    assert "no-such" in body["detail"]


def test_413_of_a_body_above_the_limit(empty_server: Server) -> None:
    app = create_app(empty_server.ledger, max_request_bytes=4096)
    client = TestClient(app, headers={"Authorization": f"Bearer {empty_server.tokens['you']}"})
    response = client.post(
        "/api/v1/ingest/costs", files={"file": ("costs.csv", b"x" * 10_000, "text/csv")}
    )
    body = problem(response, 413, "too-large")
    assert set(body) == KEYS
    assert "4,096 bytes" in body["detail"]


def test_422_of_a_bad_cell_names_its_file_row_column_and_value(empty_server: Server) -> None:
    bill = with_cell(EXAMPLES / "aws-focus.csv", 3, "BilledCost", "twelve")
    response = empty_server.client().post(
        "/api/v1/ingest/focus", files=[("files", ("july.csv", bill, "text/csv"))]
    )
    body = problem(response, 422, "validation")
    assert set(body) == KEYS | {"errors"}
    assert body["errors"] == [
        {
            "where": "july.csv, row 3, column 'BilledCost'",
            "message": "is not a decimal number",
            "value": "'twelve'",
            "file": "july.csv",
            "row": 3,
            "column": "BilledCost",
        }
    ]


def test_429_after_five_failed_sign_ins(empty_server: Server) -> None:
    client = empty_server.client(None)
    wrong = {"name": "you", "password": "not the password at all"}
    for _ in range(5):
        problem(client.post("/login", json=wrong), 401, "unauthenticated")
    response = client.post("/login", json=wrong)
    body = problem(response, 429, "too-many-attempts")
    assert set(body) == KEYS
    assert 0 < int(response.headers["Retry-After"]) <= 900


def test_500_says_nothing_of_the_exception_and_logs_it(
    empty_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(empty_server.ledger)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the secret inner detail")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="valuegap.web"):
        response = client.get("/boom")
    body = problem(response, 500, "internal")
    assert set(body) == KEYS
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert "the secret inner detail" in caplog.text
    assert "GET /boom failed" in caplog.text

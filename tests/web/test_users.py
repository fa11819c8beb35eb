"""Users, passwords and API tokens over the API: an admin manages anyone; a user sets their
own password and makes, lists and revokes their own tokens, never another's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from valuegap.model.audit import AuditRecord
from valuegap.results import to_data

from .conftest import Server

PASSWORD = "correct horse battery"


def test_an_admin_adds_and_changes_a_user(empty_server: Server) -> None:
    client = empty_server.client()
    made = client.put("/api/v1/users/ines", json={"role": "contributor", "units": ["finance-ops"]})
    assert made.json() == {
        "name": "ines",
        "role": "contributor",
        "units": ["finance-ops"],
        "agent": None,
    }
    changed = client.put("/api/v1/users/ines", json={"role": "viewer"})
    assert (changed.json()["role"], changed.json()["units"]) == ("viewer", [])
    assert [u["name"] for u in client.get("/api/v1/users").json()] == ["ines", "you"]
    refused = client.put("/api/v1/users/bo", json={"role": "viewer", "units": ["x"]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["where"] == "units"


def test_a_token_secret_is_shown_once_and_works_until_revoked(empty_server: Server) -> None:
    client = empty_server.client()
    client.put("/api/v1/users/ines", json={"role": "viewer"})

    made = client.post(
        "/api/v1/tokens", json={"user": "ines", "label": "laptop", "expires_in_hours": 24}
    )
    assert made.status_code == 201
    token, secret = made.json()["token"], made.json()["secret"]
    assert secret.startswith("vgt_") and token["user"] == "ines"

    listed = client.get("/api/v1/tokens?user=ines")
    assert [t["id"] for t in listed.json()] == [token["id"]]
    assert secret not in listed.text and "secret" not in listed.json()[0]
    ines = TestClient(empty_server.app, headers={"Authorization": f"Bearer {secret}"})
    assert ines.get("/api/v1/me").json()["name"] == "ines"

    assert ines.delete(f"/api/v1/tokens/{token['id']}").json()["revoked_at"] is not None
    assert ines.get("/api/v1/me").status_code == 401


def test_a_user_manages_their_own_tokens_and_password_only(demo_server: Server) -> None:
    viewer = demo_server.client("exec.board")
    own = viewer.post("/api/v1/tokens", json={"user": "exec.board"})
    assert own.status_code == 201
    assert viewer.get("/api/v1/tokens?user=exec.board").status_code == 200
    mine = viewer.put("/api/v1/users/exec.board/password", json={"password": PASSWORD})
    assert mine.status_code == 204

    assert viewer.post("/api/v1/tokens", json={"user": "finn.berg"}).status_code == 403
    assert viewer.get("/api/v1/tokens").status_code == 403  # everyone's: admins only
    assert viewer.get("/api/v1/tokens?user=finn.berg").status_code == 403
    finn = demo_server.ledger.governance.credentials.tokens("finn.berg")[0].id
    assert viewer.delete(f"/api/v1/tokens/{finn}").status_code == 403
    password = viewer.put("/api/v1/users/finn.berg/password", json={"password": PASSWORD})
    assert password.status_code == 403
    assert viewer.put("/api/v1/users/exec.board", json={"role": "admin"}).status_code == 403


def test_a_password_set_over_the_api_signs_in(empty_server: Server) -> None:
    client = empty_server.client()
    short = client.put("/api/v1/users/you/password", json={"password": "short"})
    assert short.status_code == 422
    assert client.put("/api/v1/users/you/password", json={"password": PASSWORD}).status_code == 204
    browser = empty_server.client(None)
    assert browser.post("/login", json={"name": "you", "password": PASSWORD}).status_code == 200
    assert browser.get("/api/v1/me").json()["role"] == "admin"


def test_the_audit_log_pages_newest_first_and_filters_by_entity(demo_server: Server) -> None:
    client = demo_server.client("exec.board")
    first = client.get("/api/v1/audit?limit=10").json()
    newest = demo_server.ledger.governance.audit.audit_log(limit=10)
    assert first == to_data([AuditRecord.of(entry) for entry in newest])  # as the CLI shows
    assert isinstance(first[0]["after"], dict)  # parsed, not JSON text
    second = client.get(f"/api/v1/audit?limit=10&before={first[-1]['seq']}").json()
    seqs = [e["seq"] for e in first + second]
    head = first[0]["seq"]
    assert seqs == list(range(head, head - 20, -1))
    about = client.get("/api/v1/audit?entity=loc-qa&limit=1000").json()
    assert about and {e["entity_id"] for e in about} == {"loc-qa"}
    assert client.get("/api/v1/audit?limit=0").status_code == 422
    verified = client.get("/api/v1/audit/verify").json()
    assert (verified["ok"], verified["entries"]) == (True, head)

"""Adoption uploads: the org chart, adoption records and surveys as multipart files, loaded as
``valuegap ingest`` loads them (all or nothing, bad rows named, never a person); retention."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.adoption.adoption_data import ADOPTION_HEADER, HAND_BUILT, ORG, SURVEY, write_csv
from tests.ledger_contents import contents

from .conftest import Server, problem


def _upload(path: Path) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (path.name, path.read_bytes(), "text/csv")}


def test_the_org_chart_records_and_surveys_land_and_again_add_nothing(
    empty_server: Server, tmp_path: Path
) -> None:
    client = empty_server.client()
    files = {
        "org": write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG),
        "adoption": write_csv(tmp_path / "a.csv", ADOPTION_HEADER, HAND_BUILT),
        "survey": write_csv(tmp_path / "s.csv", ("unit", "survey", "period", "answer"), SURVEY),
    }
    # 4 units; 56 rows of records and process volume, each its own key; 15 answers
    expected = {"org": 4, "adoption": len(HAND_BUILT), "survey": 15}
    for kind, path in files.items():
        first = client.post(f"/api/v1/ingest/{kind}", files=_upload(path))
        assert first.status_code == 200, first.text
        body = first.json()
        assert (body["kind"], body["file"], body["rows_read"]) == (kind, path.name, expected[kind])
        assert body["rows_added"] == expected[kind]
        again = client.post(f"/api/v1/ingest/{kind}", files=_upload(path)).json()
        assert again["rows_added"] == 0
    people = empty_server.ledger.session.db.one(
        "SELECT count(DISTINCT pseudonym) FROM adoption_records"
    )
    assert people == (11,)  # p1 to p11


def test_a_bad_adoption_upload_is_refused_naming_the_row_and_changes_nothing(
    empty_server: Server, tmp_path: Path
) -> None:
    client = empty_server.client()
    client.post(
        "/api/v1/ingest/org",
        files=_upload(write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG)),
    )
    before = contents(empty_server.ledger)
    rows = [
        ("p1@corp", "sales", "copilot", "activity", "2026-11-03", 2, ""),
        ("someone@corp", "ops", "copilot", "process", "2026-11-03", 2, 5),
    ]
    response = client.post(
        "/api/v1/ingest/adoption",
        files=_upload(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, rows)),
    )
    body = problem(response, 422)
    assert [(e["file"], e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        ("a.csv", 2, "person", "'(withheld)'")
    ]
    assert "someone" not in response.text
    assert contents(empty_server.ledger) == before


def test_retention_answers_what_it_did(empty_server: Server) -> None:
    body = empty_server.client().post("/api/v1/adoption/retain").json()
    assert set(body) == {"first_kept", "records_deleted", "weeks_added"}
    assert (body["records_deleted"], body["weeks_added"]) == (0, 0)


def test_a_viewer_may_not_upload_adoption_data(empty_server: Server, tmp_path: Path) -> None:
    ledger = empty_server.ledger
    ledger.governance.users.add_user("vic", "viewer")
    token = ledger.governance.credentials.create_token("vic").secret
    client = TestClient(empty_server.app, headers={"Authorization": f"Bearer {token}"})
    org = write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG)
    problem(client.post("/api/v1/ingest/org", files=_upload(org)), 403)
    problem(client.post("/api/v1/adoption/retain"), 403)
    schema = empty_server.client().get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/ingest/org",
        "/api/v1/ingest/adoption",
        "/api/v1/ingest/survey",
        "/api/v1/adoption/retain",
    ):
        assert schema["paths"][path]["post"]["x-valuegap-permission"] == "adoption.write"

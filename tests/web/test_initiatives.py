"""/api/v1/initiatives over the demo organisation: its nine initiatives in seven business
units; ana.costa is a contributor in marketing (loc-qa only), omar.haddad in operations and
customer-service."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import Served, as_json, cli_json, problem

ALL = {
    "loc-qa",
    "doc-classifier",
    "product-recs",
    "fraud-detection",
    "code-review",
    "refund-agent",
    "meeting-summariser",
    "sales-forecast",
    "emotion-monitoring",
}
OMARS = {"doc-classifier", "meeting-summariser", "refund-agent", "emotion-monitoring"}


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    response = served("exec.board").get("/api/v1/initiatives")
    assert response.status_code == 200
    assert {i["id"] for i in response.json()} == ALL
    assert response.json() == cli_json(demo, "initiative", "list", actor="exec.board")


def test_the_list_filters_by_stage_and_unit(served: Served) -> None:
    ops = served().get("/api/v1/initiatives", params={"business_unit": "operations"})
    assert {i["id"] for i in ops.json()} == {"doc-classifier", "meeting-summariser"}
    bad = served().get("/api/v1/initiatives", params={"stage": "someday"})
    assert problem(bad, 422)["errors"][0]["where"] == "stage"


def test_a_contributor_sees_only_their_units(served: Served, demo: Path) -> None:
    mine = served("omar.haddad").get("/api/v1/initiatives").json()
    assert {i["id"] for i in mine} == OMARS
    assert mine == cli_json(demo, "initiative", "list", actor="omar.haddad")
    assert [i["id"] for i in served("ana.costa").get("/api/v1/initiatives").json()] == ["loc-qa"]
    problem(served("ana.costa").get("/api/v1/initiatives/fraud-detection"), 404)
    problem(
        served("ana.costa").get("/api/v1/metrics", params={"initiative": "fraud-detection"}), 404
    )
    listed = served("ana.costa").get("/api/v1/metrics").json()
    assert {m["initiative"] for m in listed} == {"loc-qa"}


def test_one_initiative_is_the_clis_show_with_its_version(served: Served, demo: Path) -> None:
    response = served("ana.costa").get("/api/v1/initiatives/loc-qa")
    assert response.status_code == 200
    assert response.json() == cli_json(demo, "initiative", "show", "loc-qa")
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 22
    problem(served().get("/api/v1/initiatives/no-such-thing"), 404)


def test_credentials_are_needed(served: Served) -> None:
    body = problem(served.anonymous.get("/api/v1/initiatives"), 401)
    assert body["type"] == "urn:valuegap:problem:unauthenticated"
    wrong = served.anonymous.get(
        "/api/v1/initiatives", headers={"Authorization": "Bearer vgt_nothing"}
    )
    problem(wrong, 401)


def test_a_change_needs_the_version_read(served: Served) -> None:
    client = served("ana.costa")
    read = client.get("/api/v1/initiatives/loc-qa")
    spec = as_json(served.ledger.portfolio.initiative("loc-qa").spec())
    spec["hypothesis"] = "Machine translation with review halves localisation QA time."
    changed = client.put(
        "/api/v1/initiatives/loc-qa", json=spec, headers={"If-Match": read.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["hypothesis"] == spec["hypothesis"]
    assert changed.headers["etag"] != read.headers["etag"]
    stale = client.put(
        "/api/v1/initiatives/loc-qa", json=spec, headers={"If-Match": read.headers["etag"]}
    )
    assert problem(stale, 412)["type"] == "urn:valuegap:problem:conflict"
    problem(client.put("/api/v1/initiatives/loc-qa", json=spec), 422)  # no If-Match
    other = served("ana.costa").put(
        "/api/v1/initiatives/fraud-detection", json=spec, headers={"If-Match": '"x"'}
    )
    problem(other, 404)
    problem(
        served("exec.board").put(
            "/api/v1/initiatives/loc-qa", json=spec, headers={"If-Match": '"x"'}
        ),
        403,
    )


def test_a_portfolio_document_is_applied_as_valuegap_apply_would(served: Served) -> None:
    document = {
        "initiatives": [
            {
                "id": "brand-voice",
                "name": "Brand voice checker",
                "kind": "use_case",
                "business_unit": "marketing",
                "owner": "Ana Costa",
            }
        ]
    }
    dry = served("ana.costa").post("/api/v1/initiatives/apply?dry_run=true", json=document)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert [c["kind"] for c in dry.json()["changes"]] == ["create"]
    problem(served().get("/api/v1/initiatives/brand-voice"), 404)
    applied = served("ana.costa").post("/api/v1/initiatives/apply", json=document)
    assert [c["kind"] for c in applied.json()["changes"]] == ["create"]
    again = served("ana.costa").post("/api/v1/initiatives/apply", json=document)
    assert [c["kind"] for c in again.json()["changes"]] == ["unchanged"]
    elsewhere = {
        "initiatives": [{**document["initiatives"][0], "id": "x", "business_unit": "risk"}]
    }
    problem(served("ana.costa").post("/api/v1/initiatives/apply", json=elsewhere), 403)
    bad = served().post("/api/v1/initiatives/apply", json={"initiatives": [{"id": "Bad Id"}]})
    body = problem(bad, 422)
    assert body["detail"].startswith("the request body")
    wheres = {e["where"] for e in body["errors"]}
    assert {"initiatives[0] (Bad Id).id", "initiatives[0] (Bad Id).name"} <= wheres, wheres


def test_stage_moves_and_the_gate(served: Served, demo: Path) -> None:
    check = served("omar.haddad").get(
        "/api/v1/initiatives/refund-agent/gate", params={"to_stage": "production"}
    )
    assert check.status_code == 200, check.text
    assert check.json()["initiative"] == "refund-agent"
    assert check.json() == cli_json(demo, "gate", "check", "refund-agent", "--to", "production")
    denied = served("omar.haddad").post(
        "/api/v1/initiatives/emotion-monitoring/advance", json={"to_stage": "poc"}
    )
    assert problem(denied, 409)["rule_ids"] == ["prohibited-stays-proposed"]
    retired = served("omar.haddad").post(
        "/api/v1/initiatives/emotion-monitoring/retire",
        json={"reason": "Emotion inference at work is off limits.", "learnings": "Ask first."},
    )
    assert retired.status_code == 200, retired.text
    assert (retired.json()["to_stage"], retired.json()["decision"]["decision"]) == (
        "retired",
        "allow",
    )
    after = served().get("/api/v1/initiatives/emotion-monitoring").json()
    assert after["stage"] == "retired"
    problem(
        served("omar.haddad").post("/api/v1/initiatives/loc-qa/advance", json={"to_stage": "poc"}),
        404,
    )
    problem(
        served("finn.berg").post("/api/v1/initiatives/loc-qa/advance", json={"to_stage": "poc"}),
        403,
    )
    problem(served().post("/api/v1/initiatives/loc-qa/advance", json={}), 422)

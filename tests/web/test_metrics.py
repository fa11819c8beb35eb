"""/api/v1/metrics over the demo: loc-qa (marketing) has two metrics, loc-qa-errors (target
40) and loc-qa-hours (target 150), both agreed by finance."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tests.web.conftest import Served, as_json, cli_json, problem


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    listed = served("ana.costa").get("/api/v1/metrics", params={"initiative": "loc-qa"})
    assert [(m["initiative"], m["id"], m["target"]) for m in listed.json()] == [
        ("loc-qa", "loc-qa-errors", "40"),
        ("loc-qa", "loc-qa-hours", "150"),
    ]
    everything = served("exec.board").get("/api/v1/metrics").json()
    assert everything == cli_json(demo, "metric", "list", actor="exec.board")


def test_one_metric_and_unknown_ones(served: Served) -> None:
    found = served("ana.costa").get("/api/v1/metrics/loc-qa-errors")
    assert found.status_code == 200 and found.json()["id"] == "loc-qa-errors"
    assert found.headers["etag"]
    problem(served().get("/api/v1/metrics/no-such-metric"), 404)
    fraud = served().get("/api/v1/metrics", params={"initiative": "fraud-detection"}).json()
    problem(served("ana.costa").get(f"/api/v1/metrics/{fraud[0]['id']}"), 404)
    problem(served.anonymous.get("/api/v1/metrics"), 401)


def test_define_a_metric(served: Served) -> None:
    metric = {
        "id": "loc-qa-turnaround",
        "name": "Days to a localised release",
        "unit": "days",
        "direction": "decrease",
    }
    defined = served("ana.costa").post("/api/v1/initiatives/loc-qa/metrics", json=metric)
    assert defined.status_code == 201, defined.text
    assert defined.json()["name"] == "Days to a localised release"
    listed = served().get("/api/v1/metrics", params={"initiative": "loc-qa"}).json()
    assert [m["id"] for m in listed][-1] == "loc-qa-turnaround"
    again = served("ana.costa").post("/api/v1/initiatives/loc-qa/metrics", json=metric)
    assert problem(again, 422)["errors"][0]["where"] == "id"
    problem(
        served("ana.costa").post(
            "/api/v1/initiatives/fraud-detection/metrics", json={**metric, "id": "x"}
        ),
        404,
    )
    problem(served("finn.berg").post("/api/v1/initiatives/loc-qa/metrics", json=metric), 403)
    problem(served().post("/api/v1/initiatives/loc-qa/metrics", json={"id": "y"}), 422)


def test_finance_agrees_a_method(served: Served) -> None:
    metric = {
        "id": "loc-qa-turnaround",
        "name": "Days to a localised release",
        "unit": "days",
        "direction": "decrease",
        "method": "direct",
    }
    served("ana.costa").post("/api/v1/initiatives/loc-qa/metrics", json=metric)
    problem(
        served("ana.costa").post("/api/v1/metrics/loc-qa-turnaround/agree", json={"by": "Ana"}), 403
    )
    read = served("finn.berg").get("/api/v1/metrics/loc-qa-turnaround")
    agreed = served("finn.berg").post(
        "/api/v1/metrics/loc-qa-turnaround/agree",
        json={"by": "Finn Berg (Finance)"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed_by"] == "Finn Berg (Finance)"
    stale = served("finn.berg").post(
        "/api/v1/metrics/loc-qa-turnaround/agree",
        json={"by": "Finn Berg (Finance)"},
        headers={"If-Match": read.headers["etag"]},
    )
    problem(stale, 412)


def _changed(served: Served, target: int) -> dict[str, Any]:
    metric = as_json(served.ledger.portfolio.metric("loc-qa-errors"))
    metric.pop("agreement_recorded", None)
    return {**metric, "target": target}


def test_two_concurrent_updates_one_wins_the_other_is_refused(served: Served) -> None:
    """Each reads the ETag, both wait until both have read, then each updates with If-Match:
    exactly one change is made, and the audit log shows exactly one."""
    before = len(served.ledger.governance.audit.audit_log(entity_id="loc-qa-errors"))
    both_read = threading.Barrier(2)
    statuses: dict[int, int] = {}

    def update(target: int) -> None:
        client = served("ana.costa")
        etag = client.get("/api/v1/metrics/loc-qa-errors").headers["etag"]
        body = _changed(served, target)
        both_read.wait()
        response = client.put(
            "/api/v1/metrics/loc-qa-errors", json=body, headers={"If-Match": etag}
        )
        statuses[target] = response.status_code

    threads = [threading.Thread(target=update, args=(t,)) for t in (35, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [200, 412], statuses
    winner = next(t for t, s in statuses.items() if s == 200)
    assert served.ledger.portfolio.metric("loc-qa-errors").target == winner
    entries = served.ledger.governance.audit.audit_log(entity_id="loc-qa-errors")
    assert [e.action for e in entries[: len(entries) - before]] == ["metric.update"]


def test_an_update_needs_if_match_and_the_role(served: Served) -> None:
    body = _changed(served, 35)
    problem(served("ana.costa").put("/api/v1/metrics/loc-qa-errors", json=body), 422)
    problem(
        served("exec.board").put(
            "/api/v1/metrics/loc-qa-errors", json=body, headers={"If-Match": '"x"'}
        ),
        403,
    )
    problem(
        served("omar.haddad").put(
            "/api/v1/metrics/loc-qa-errors", json=body, headers={"If-Match": '"x"'}
        ),
        404,
    )
    renamed = served("ana.costa").put(
        "/api/v1/metrics/loc-qa-errors", json={**body, "id": "z"}, headers={"If-Match": '"x"'}
    )
    problem(renamed, 422)

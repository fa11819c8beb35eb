"""/api/v1/initiatives/{id}/controls: attesting readiness controls of the demo's
initiatives."""

from __future__ import annotations

from tests.web.conftest import Served, problem

URL = "/api/v1/initiatives/sales-forecast/controls"


def test_a_contributor_attests_a_control_of_their_unit(served: Served) -> None:
    before = served().get("/api/v1/initiatives/sales-forecast").json()["controls"]
    control = next(name for name, status in before.items() if not status["attested"])
    evidence = "Runbook in the wiki, page 12."
    done = served("lena.fischer").put(f"{URL}/{control}", json={"evidence": evidence})
    assert done.status_code == 204, done.text
    after = served().get("/api/v1/initiatives/sales-forecast").json()["controls"][control]
    assert (after["attested"], after["evidence"], after["attested_by"]) == (
        True,
        evidence,
        "lena.fischer",
    )


def test_refusals(served: Served) -> None:
    problem(served("ana.costa").put(f"{URL}/fallback", json={"evidence": "x"}), 404)
    problem(served("finn.berg").put(f"{URL}/fallback", json={"evidence": "x"}), 403)
    problem(served.anonymous.put(f"{URL}/fallback", json={"evidence": "x"}), 401)
    unknown = served().put(f"{URL}/vibes", json={"evidence": "x"})
    assert problem(unknown, 422)["errors"][0]["where"] == "control"
    problem(served().put(f"{URL}/fallback", json={"evidence": " "}), 422)
    problem(served().put(f"{URL}/fallback", json={}), 422)

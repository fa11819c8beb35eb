"""/api/v1/policies over the demo: the enterprise pack, customer-service's and risk's
business-unit policies and refund-agent's own, each at version 1."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import Served, cli_json, problem

MARKETING = """\
layer: business_unit
scope: marketing
rules:
  - id: marketing-named-owner
    when: {transition: proposed->poc}
    expr: initiative.owner != null
    effect: deny
    message: A marketing initiative names its owner before its PoC.
"""
YAML = {"Content-Type": "application/yaml"}


def test_the_list_is_the_clis_json(served: Served, demo: Path) -> None:
    listed = served("exec.board").get("/api/v1/policies")
    assert [(p["layer"], p["scope"], p["version"]) for p in listed.json()] == [
        ("enterprise", None, 1),
        ("business_unit", "customer-service", 1),
        ("business_unit", "risk", 1),
        ("initiative", "refund-agent", 1),
    ]
    assert listed.json() == cli_json(demo, "policy", "list")


def test_applying_a_policy_file(served: Served) -> None:
    problem(served("ana.costa").post("/api/v1/policies", content=MARKETING, headers=YAML), 403)
    applied = served("grace.okafor").post("/api/v1/policies", content=MARKETING, headers=YAML)
    assert applied.status_code == 200, applied.text
    assert applied.json() == {
        "layer": "business_unit",
        "scope": "marketing",
        "rules": 1,
        "version": 1,
        "changed": True,
    }
    again = served("grace.okafor").post("/api/v1/policies", content=MARKETING, headers=YAML)
    assert (again.json()["changed"], again.json()["version"]) == (False, 1)
    scopes = [p["scope"] for p in served().get("/api/v1/policies").json()]
    assert "marketing" in scopes


def test_a_bad_policy_file_is_refused_whole(served: Served) -> None:
    bad = MARKETING.replace("scope: marketing", "scope: nowhere")
    body = problem(served("grace.okafor").post("/api/v1/policies", content=bad, headers=YAML), 422)
    assert body["errors"][0]["value"] == "'nowhere'"  # as the CLI shows a value
    broken = served("grace.okafor").post("/api/v1/policies", content="rules: [", headers=YAML)
    problem(broken, 422)
    problem(served("grace.okafor").post("/api/v1/policies", content=b"\xff\xfe", headers=YAML), 422)

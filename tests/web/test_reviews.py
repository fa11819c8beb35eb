"""/api/v1/reviews over the demo: three reviews recorded on 2025-09-09 (doc-classifier
scale, loc-qa scale, meeting-summariser kill); product-recs' next review is 2025-12-25."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import Served, cli_json, problem


def test_the_list_is_the_clis_json_and_scoped(served: Served, demo: Path) -> None:
    listed = served("exec.board").get("/api/v1/reviews")
    assert [(r["initiative"], r["recommendation"]) for r in listed.json()] == [
        ("doc-classifier", "scale"),  # inside its business case's band
        ("loc-qa", "scale"),
        ("meeting-summariser", "kill"),
    ]
    assert listed.json() == cli_json(demo, "review", "list")
    mine = served("ana.costa").get("/api/v1/reviews").json()
    assert [r["initiative"] for r in mine] == ["loc-qa"]
    problem(
        served("ana.costa").get("/api/v1/reviews", params={"initiative": "doc-classifier"}), 404
    )


def test_running_the_reviews_due(served: Served) -> None:
    problem(served("ana.costa").post("/api/v1/reviews", json={}), 403)
    ran = served("grace.okafor").post("/api/v1/reviews", json={"as_of": "2026-01-01"})
    assert ran.status_code == 200, ran.text
    assert [(r["initiative"], r["due"]) for r in ran.json()] == [("product-recs", "2025-12-25")]
    assert served().get("/api/v1/reviews").json()[-1]["initiative"] == "product-recs"
    problem(served("grace.okafor").post("/api/v1/reviews", json={"as_of": "2999-01-01"}), 422)
    problem(served("grace.okafor").post("/api/v1/reviews", json={"as_of": "soon"}), 422)

"""Uploads: every ingest kind as a multipart file, loaded as ``valuegap ingest`` loads it, and
wrong lines removed again; allocation rules and prices."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from ..conftest import EXAMPLES
from .conftest import Server, with_cell

DATA = Path(__file__).parent.parent / "data"
AWS = EXAMPLES / "aws-focus.csv"
OPENAI = EXAMPLES / "openai-focus.csv"


def upload(path: Path, content: bytes | None = None) -> tuple[str, bytes, str]:
    return (path.name, path.read_bytes() if content is None else content, "text/csv")


def billed(path: Path, **where: str) -> Decimal:
    """The sum of a FOCUS file's BilledCost, worked out here from the file."""
    with path.open() as file:
        rows = [r for r in csv.DictReader(file) if all(r[k] == v for k, v in where.items())]
    return sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))


def test_a_malformed_focus_upload_is_refused_naming_the_cell_and_changes_nothing(
    demo_server: Server,
) -> None:
    client = demo_server.client("finn.berg")
    by_provider = "/api/v1/reports/costs?by=provider,month"
    costs_before = client.get(by_provider).json()
    head_before = client.get("/api/v1/audit?limit=1").json()
    bad = with_cell(AWS, 17, "EffectiveCost", "1,234.50 USD")

    response = client.post("/api/v1/ingest/focus", files=[("files", upload(AWS, bad))])

    assert response.status_code == 422
    assert [(e["file"], e["row"], e["column"], e["value"]) for e in response.json()["errors"]] == [
        ("aws-focus.csv", 17, "EffectiveCost", "'1,234.50 USD'")
    ]
    assert client.get(by_provider).json() == costs_before
    assert client.get("/api/v1/audit?limit=1").json() == head_before
    assert client.get("/api/v1/audit/verify").json()["ok"] is True


def test_focus_files_land_together_and_again_add_nothing(empty_server: Server) -> None:
    client = empty_server.client()
    files = [("files", upload(AWS)), ("files", upload(OPENAI))]

    first = client.post("/api/v1/ingest/focus", files=files)
    again = client.post("/api/v1/ingest/focus", files=files)

    assert first.status_code == 200, first.text
    assert [(r["file"], r["rows_read"], r["rows_added"]) for r in first.json()] == [
        ("aws-focus.csv", 25, 25),
        ("openai-focus.csv", 4, 4),
    ]
    assert [r["rows_added"] for r in again.json()] == [0, 0]
    costs = client.get("/api/v1/reports/costs?by=provider").json()
    assert {row["provider"]: Decimal(row["cost"]) for row in costs} == {
        "AWS": billed(AWS),  # 11,133.74
        "OpenAI": billed(OPENAI),
    }


def test_one_bad_file_of_two_refuses_both(empty_server: Server) -> None:
    client = empty_server.client()
    bad = with_cell(OPENAI, 2, "BillingPeriodStart", "July")
    response = client.post(
        "/api/v1/ingest/focus", files=[("files", upload(AWS)), ("files", upload(OPENAI, bad))]
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["file"] == "openai-focus.csv"
    assert client.get("/api/v1/reports/costs?by=provider").json() == []


def test_usage_manual_costs_rates_and_measures_upload(empty_server: Server) -> None:
    client = empty_server.client()
    empty_server.ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")

    usage = client.post(
        "/api/v1/ingest/usage",
        files={"file": upload(EXAMPLES / "litellm-spend.csv")},
        data={"input_format": "litellm"},
    )
    costs = client.post("/api/v1/ingest/costs", files={"file": upload(EXAMPLES / "costs.csv")})
    measures = client.post(
        "/api/v1/ingest/measures/observations",
        files={"file": upload(EXAMPLES / "observations.csv")},
    )

    assert usage.status_code == 200, usage.text
    assert (usage.json()["kind"], usage.json()["rows_read"]) == ("usage", 44)
    assert costs.json()["rows_read"] == 4  # four entries, each spread over its months
    assert (measures.json()["kind"], measures.json()["rows_added"]) == ("observations", 7)
    rates = client.post(
        "/api/v1/ingest/rates",
        files={
            "file": (
                "rates.csv",
                b"valid_from,from_currency,to_currency,rate\n2026-01-01,EUR,USD,1.08\n",
            )
        },
    )
    assert (rates.json()["rows_read"], rates.json()["rows_added"]) == (1, 1)


def test_an_unknown_usage_format_is_a_422_before_anything_is_read(empty_server: Server) -> None:
    response = empty_server.client().post(
        "/api/v1/ingest/usage",
        files={"file": upload(EXAMPLES / "litellm-spend.csv")},
        data={"input_format": "excel"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["where"] == "body.input_format"


def test_removal_by_file_dry_then_for_real(empty_server: Server) -> None:
    client = empty_server.client()
    client.post("/api/v1/ingest/focus", files=[("files", upload(AWS)), ("files", upload(OPENAI))])
    form = {"reason": "The OpenAI bill was loaded twice under two accounts."}

    dry = client.post(
        "/api/v1/remove/focus", files={"file": upload(OPENAI)}, data={**form, "dry_run": "true"}
    )
    assert (dry.json()["dry_run"], len(dry.json()["rows"])) == (True, 4)
    assert len(client.get("/api/v1/reports/costs?by=provider").json()) == 2

    done = client.post("/api/v1/remove/focus", files={"file": upload(OPENAI)}, data=form)
    assert (done.json()["table"], len(done.json()["rows"])) == ("focus_lines", 4)
    costs = client.get("/api/v1/reports/costs?by=provider").json()
    assert [(row["provider"], Decimal(row["cost"])) for row in costs] == [("AWS", billed(AWS))]
    assert client.get("/api/v1/audit?limit=1").json()[0]["action"] == "costs.remove"


def test_removal_needs_a_reason_and_one_of_file_or_keys(empty_server: Server) -> None:
    response = empty_server.client().post("/api/v1/remove/costs", data={"reason": " "})
    assert response.status_code == 422
    assert [e["where"] for e in response.json()["errors"]] == ["reason", "file"]


def test_rules_apply_from_an_upload_and_are_listed(empty_server: Server) -> None:
    client = empty_server.client()
    empty_server.ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
    rules = {"file": ("rules.yaml", (EXAMPLES / "rules.yaml").read_bytes())}

    assert client.put("/api/v1/rules", files=rules).json() == {"version": 1}
    assert client.put("/api/v1/rules", files=rules).json() == {"version": 1}  # the same again
    listed = client.get("/api/v1/rules").json()["rules"]
    assert [r["id"] for r in listed][:4] == [
        "loc-qa-tagged",
        "doc-classifier-tagged",
        "refund-agent-gateway",
        "shared-ai-platform",
    ]
    bad = client.put("/api/v1/rules", files={"file": ("r.yaml", b"rules: [{id: x}]\n")})
    assert bad.status_code == 422
    assert client.get("/api/v1/rules").json()["rules"] == listed


def test_a_price_is_set_listed_and_unset(empty_server: Server) -> None:
    client = empty_server.client()
    price = {
        "model": "gpt-4o-mini",
        "input_per_mtok": "0.12",
        "output_per_mtok": "0.48",
        "valid_from": "2026-01-01",
        "provider": "openai",
    }

    assert client.put("/api/v1/prices", json=price).json() == {"repriced": 0}
    listed = client.get("/api/v1/prices").json()
    assert [(p["model"], p["input_per_mtok"], p["output_per_mtok"]) for p in listed] == [
        ("gpt-4o-mini", "0.12", "0.48")
    ]
    removed = client.delete(
        "/api/v1/prices",
        params={"model": "gpt-4o-mini", "valid_from": "2026-01-01", "provider": "openai"},
    )
    assert removed.json() == {"repriced": 0}
    assert client.get("/api/v1/prices").json() == []
    assert client.get("/api/v1/prices/unpriced").json() == []


def test_a_usage_files_columns_are_mapped_as_with_map(empty_server: Server) -> None:
    """A file of two calls whose columns only a mapping names."""
    usage = ("usage.csv", (DATA / "usage-generic.csv").read_bytes(), "text/csv")
    mapping = (
        "timestamp=ts, model=model_name, provider=vendor, input_tokens=in_tok, "
        "output_tokens=out_tok"
    )
    client = empty_server.client()

    unmapped = client.post("/api/v1/ingest/usage", files={"file": usage})
    mapped = client.post("/api/v1/ingest/usage", files={"file": usage}, data={"map": mapping})

    assert unmapped.status_code == 422
    assert unmapped.json()["errors"][0]["where"] == "fmt"
    assert (mapped.json()["rows_read"], mapped.json()["rows_added"]) == (2, 2)

"""A small data lake for the external-source tests: a FOCUS export as Parquet, one folder per
billing period (as cloud exports write them), and gateway usage logs as Parquet, one folder
per month, with columns of their own (mapped by ``USAGE_MAPPING``). Deterministic: every
value comes from the month and the line's number."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

USAGE_MAPPING = {
    "timestamp": "ts",
    "request_model": "model_name",
    "provider": "vendor",
    "input_tokens": "in_tok",
    "output_tokens": "out_tok",
    "team": "squad",
    "initiative": "project",
    "event_id": "call_id",
}
RULES = """
rules:
  - id: loc-qa-tagged
    match: {tag.initiative: loc-qa}
    initiative: loc-qa
  - id: docs-tagged
    match: {tag.initiative: doc-classifier}
    initiative: doc-classifier
  - id: shared-ai-platform
    match: {tag.application: ai-platform}
    split: {method: proportional, driver: tokens, among: [loc-qa, doc-classifier]}
"""
SERVICES = (  # service, tags of its lines
    ("Amazon SageMaker", {"initiative": "loc-qa", "team": "ml"}),
    ("Amazon EC2", {"application": "ai-platform"}),
    ("Amazon S3", {}),
    ("Amazon Bedrock", {"initiative": "doc-classifier"}),
)
MODELS = (("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet-20241022"))
PROJECTS = ("loc-qa", "doc-classifier", None)


def months(first: str, count: int) -> list[str]:
    year, month = map(int, first.split("-"))
    found = []
    for n in range(count):
        y, m = divmod(month - 1 + n, 12)
        found.append(f"{year + y}-{m + 1:02d}")
    return found


def focus_month(folder: Path, month: str, lines: int = 40) -> Decimal:
    """Write ``month``'s FOCUS lines into ``folder/billing_period=<month>/``; return their
    EffectiveCost's total, added up here."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "BillingAccountId",
            "BillingCurrency",
            "BillingPeriodStart",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "ChargeCategory",
            "BilledCost",
            "EffectiveCost",
            "ProviderName",
            "ServiceName",
            "ServiceCategory",
            "SubAccountId",
            "Tags",
        )
    }
    total = Decimal(0)
    for n in range(lines):
        service, tags = SERVICES[n % len(SERVICES)]
        day = start + timedelta(days=n % 28)
        cost = Decimal(f"{(n * 37 + int(month[-2:]) * 11) % 500}.{n % 100:02d}25")
        total += cost
        for key, value in (
            ("BillingAccountId", "acct-1"),
            ("BillingCurrency", "USD"),
            ("BillingPeriodStart", start),
            ("ChargePeriodStart", day),
            ("ChargePeriodEnd", day + timedelta(days=1)),
            ("ChargeCategory", "Usage"),
            ("BilledCost", cost + 1),
            ("EffectiveCost", cost),
            ("ProviderName", "AWS"),
            ("ServiceName", service),
            ("ServiceCategory", "AI and Machine Learning"),
            ("SubAccountId", "sub-ml"),
            ("Tags", json.dumps(tags) if tags else None),
        ):
            rows[key].append(value)
    money = pa.decimal128(20, 10)
    when = pa.timestamp("us", tz="UTC")
    types = {
        "BillingPeriodStart": when,
        "ChargePeriodStart": when,
        "ChargePeriodEnd": when,
        "BilledCost": money,
        "EffectiveCost": money,
    }
    table = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in rows.items()})
    target = folder / f"billing_period={month}"
    target.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target / "part-0.parquet")
    return total


def usage_month(folder: Path, month: str, events: int = 300) -> int:
    """Write ``month``'s gateway log into ``folder/month=<month>/``; return its events."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = datetime(int(month[:4]), int(month[5:]), 1, tzinfo=UTC)
    rows: dict[str, list[object]] = {k: [] for k in USAGE_MAPPING.values()}
    for n in range(events):
        vendor, model = MODELS[n % len(MODELS)]
        rows["ts"].append(start + timedelta(minutes=n * 97 % (27 * 24 * 60)))
        rows["model_name"].append(model)
        rows["vendor"].append(vendor)
        rows["in_tok"].append(500 + n * 13 % 4000)
        rows["out_tok"].append(50 + n * 7 % 900)
        rows["squad"].append(("growth", "ops", "ml")[n % 3])
        rows["project"].append(PROJECTS[n % len(PROJECTS)])
        rows["call_id"].append(f"{month}-{n}")
    types = {"ts": pa.timestamp("us", tz="UTC"), "in_tok": pa.int64(), "out_tok": pa.int64()}
    table = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in rows.items()})
    target = folder / f"month={month}"
    target.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target / "part-0.parquet")
    return events


def lake(root: Path, first: str = "2025-01", count: int = 3) -> dict[str, Decimal]:
    """A FOCUS export and usage logs of ``count`` months from ``first`` under ``root``
    (``focus/`` and ``usage/``); each month's EffectiveCost total."""
    totals = {}
    for month in months(first, count):
        totals[month] = focus_month(root / "focus", month)
        usage_month(root / "usage", month)
    return totals

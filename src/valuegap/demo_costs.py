"""Eighteen months of the Northwind demo's AI cost, January 2025 to June 2026.

Cloud bills in FOCUS (GPUs, storage, managed AI services, a shared AI platform, credits, tax, an
OpenAI invoice), LLM usage as OpenTelemetry spans and a LiteLLM spend log across providers and
models, people, data labelling (partly in EUR), operations and opportunity cost, and the rules
that allocate it. Some of it is untagged on purpose: unallocated cost is shown, never hidden.
Every number comes from a fixed formula, so every build is the same.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from valuegap.ledger import Ledger
from valuegap.months import add_months

MONTHS = [add_months(date(2025, 1, 1), m) for m in range(18)]
FOCUS_HEADER = [
    "ServiceProviderName", "ProviderName", "BillingAccountId", "SubAccountId", "BillingCurrency",
    "BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
    "ChargeDescription", "BilledCost", "EffectiveCost", "ListCost", "ServiceName",
    "ServiceCategory", "Tags", "x_UsageType",
]  # fmt: skip

# (service, category, description, daily cost, first month, last month, tags, sub account)
CLOUD = [
    ("Amazon SageMaker", "AI and Machine Learning", "p4d.24xlarge training", 880, 4, 17,
     {"initiative": "fraud-detection"}, "ml-training"),
    ("Amazon SageMaker", "AI and Machine Learning", "ml.g5.2xlarge endpoint", 290, 5, 17,
     {"initiative": "product-recs"}, "ml-serving"),
    ("Amazon Bedrock", "AI and Machine Learning", "Claude Sonnet tokens", 60, 1, 17,
     {"initiative": "loc-qa"}, "ml-serving"),
    ("Amazon EKS", "AI and Machine Learning", "Shared GPU node group", 410, 2, 17,
     {"application": "ai-platform"}, "platform"),
    ("Amazon S3", "Storage", "Training data and model artefacts", 38, 0, 17, None, "data"),
    ("Amazon CloudWatch", "Management and Governance", "AI service monitoring", 9, 3, 17,
     None, "platform"),
]  # fmt: skip

# Usage: (initiative, provider, model, input tokens, output tokens, first month, last month)
USAGE = [
    ("loc-qa", "anthropic", "claude-sonnet-4-5", 60_000, 9_000, 1, 17),
    ("doc-classifier", "openai", "gpt-4o-mini", 120_000, 4_000, 1, 17),
    ("refund-agent", "openai", "gpt-4o", 45_000, 6_000, 4, 17),
    ("meeting-summariser", "openai", "gpt-4o", 30_000, 3_000, 1, 7),
    (None, "openai", "gpt-4o", 20_000, 2_000, 0, 17),  # untagged experiments
    ("product-recs", "gcp.gemini", "gemini-2.5-flash", 80_000, 5_000, 5, 17),
]  # fmt: skip

PEOPLE = [  # (initiative, FTE, monthly rate, first month, last month (exclusive))
    ("loc-qa", 2, 11_500, 0, 18), ("doc-classifier", 1.5, 10_800, 0, 18),
    ("product-recs", 3, 12_200, 2, 18), ("fraud-detection", 4, 13_000, 3, 18),
    ("code-review", 1, 12_000, 3, 18), ("refund-agent", 2, 11_800, 3, 18),
    ("meeting-summariser", 1, 10_500, 1, 8),
]  # fmt: skip

RULES = """
rules:
  - {id: initiative-tag, match: {tag.initiative: loc-qa}, initiative: loc-qa}
  - {id: docs-tag, match: {tag.initiative: doc-classifier}, initiative: doc-classifier}
  - {id: recs-tag, match: {tag.initiative: product-recs}, initiative: product-recs}
  - {id: fraud-tag, match: {tag.initiative: fraud-detection}, initiative: fraud-detection}
  - {id: agent-tag, match: {tag.initiative: refund-agent}, initiative: refund-agent}
  - {id: summariser-tag, match: {tag.initiative: meeting-summariser},
     initiative: meeting-summariser}
  - {id: code-review-key, match: {api_key: code-review-ci}, initiative: code-review}
  - id: shared-ai-platform
    match: {tag.application: ai-platform}
    split: {method: proportional, driver: tokens,
            among: [loc-qa, doc-classifier, refund-agent]}
"""


def load_demo_costs(ledger: Ledger, folder: Path, step: Callable[[str], None]) -> None:
    """Write the demo's cost files into ``folder`` and ingest them as ``ledger``'s user,
    telling ``step`` each step as it starts."""
    step("costs: 18 months of cloud bills and currency rates")
    files = {
        "aws-focus-1.2.csv": _aws_focus, "openai-focus-1.3.csv": _openai_invoice,
        "spans.jsonl": _spans, "litellm-spend.csv": _litellm, "costs.csv": _manual,
        "rates.csv": _rates,
    }  # fmt: skip
    for name, write in files.items():
        write(folder / name)
    (folder / "rules.yaml").write_text(RULES)
    ledger.costs.ingest_rates(folder / "rates.csv")
    ledger.costs.ingest_focus([folder / "aws-focus-1.2.csv", folder / "openai-focus-1.3.csv"])
    step("costs: LLM usage")
    ledger.costs.ingest_usage(folder / "spans.jsonl", "otel")
    ledger.costs.ingest_usage(folder / "litellm-spend.csv", "litellm")
    step("costs: allocation rules; people, data, operations")
    # The rules first: the budgets' alerts raised at the manual costs' ingest (January's)
    # count the usage the rules allocate.
    ledger.costs.apply_rules(folder / "rules.yaml")
    ledger.costs.ingest_costs(folder / "costs.csv")


def _days(month: int) -> list[date]:
    start = MONTHS[month]
    end = MONTHS[month + 1] if month + 1 < len(MONTHS) else date(2026, 7, 1)
    return [start + timedelta(days=n) for n in range((end - start).days)]


def _ramp(month: int, first: int) -> float:
    """Adoption grows over the first year an initiative runs, then levels off."""
    return min(1.0, 0.25 + 0.75 * (month - first) / 12)


def _aws_focus(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FOCUS_HEADER)
        for month in range(18):
            period = f"{MONTHS[month]:%Y-%m-%d}T00:00:00Z"
            for day in _days(month):
                for service, category, text, daily, first, last, tags, account in CLOUD:
                    if not first <= month <= last:
                        continue
                    cost = round(daily * (0.9 + 0.2 * ((day.toordinal() * 7) % 11) / 10), 2)
                    writer.writerow([
                        "AWS", "AWS", "111122223333", account, "USD", period,
                        f"{day}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z", "Usage",
                        text, f"{cost:.2f}", f"{cost:.2f}", f"{cost * 1.12:.2f}", service,
                        category, json.dumps(tags) if tags else "NULL", "demo",
                    ])  # fmt: skip
            end = f"{MONTHS[month]:%Y-%m}-28T00:00:00Z"
            writer.writerow(["AWS", "AWS", "111122223333", "platform", "USD", period, period, end,
                             "Credit", "Activate credits", "-250.00", "-250.00", "0",
                             "Amazon EKS", "AI and Machine Learning",
                             '{"application": "ai-platform"}', "credit"])  # fmt: skip
            writer.writerow(["AWS", "AWS", "111122223333", "platform", "USD", period, period, end,
                             "Tax", "VAT", "118.40", "118.40", "118.40", "Tax", "Other", "NULL",
                             "tax"])  # fmt: skip


def _openai_invoice(path: Path) -> None:
    """OpenAI's monthly invoice in FOCUS 1.3 (ServiceProviderName only). It matches the
    computed usage to within a few per cent, except in March 2026, when a batch job ran
    outside the instrumented services: a gap for reconciliation to flag."""
    totals = {m: 0.0 for m in range(18)}
    for _, provider, model, tokens_in, tokens_out, first, last in USAGE:
        if provider != "openai":
            continue
        rate_in, rate_out = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)}[model]
        for month in range(first, last + 1):
            events = 4 * len(_days(month))
            scale = _ramp(month, first)
            totals[month] += (
                events
                * (round(tokens_in * scale) * rate_in + round(tokens_out * scale) * rate_out)
                / 1e6
            )
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ServiceProviderName", "HostProviderName", "BillingAccountId",
                         "BillingCurrency", "BillingPeriodStart", "ChargePeriodStart",
                         "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost",
                         "ServiceName", "ServiceCategory", "Tags"])  # fmt: skip
        for month, total in totals.items():
            if total == 0:
                continue
            billed = total * (1.018 if month != 14 else 1.31)
            start, end = MONTHS[month], [*MONTHS, date(2026, 7, 1)][month + 1]
            writer.writerow(["OpenAI", "OpenAI", "org-northwind", "USD", f"{start}T00:00:00Z",
                             f"{start}T00:00:00Z", f"{end}T00:00:00Z", "Usage", f"{billed:.2f}",
                             f"{billed:.2f}", "OpenAI API", "AI and Machine Learning",
                             ""])  # fmt: skip


def _spans(path: Path) -> None:
    with path.open("w") as handle:
        n = 0
        for initiative, provider, model, tokens_in, tokens_out, first, last in USAGE:
            for month in range(first, last + 1):
                scale = _ramp(month, first)
                for day in _days(month):
                    for hour in (9, 11, 14, 16):
                        n += 1
                        when = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
                        attributes = {
                            "gen_ai.provider.name": provider, "gen_ai.request.model": model,
                            "gen_ai.usage.input_tokens": round(tokens_in * scale),
                            "gen_ai.usage.output_tokens": round(tokens_out * scale),
                            "team": f"{initiative or 'labs'}-team",
                            "enduser.id": f"person-{n % 37}@northwind.example",
                        }  # fmt: skip
                        if initiative:
                            attributes["valuegap.initiative"] = initiative
                        handle.write(json.dumps({
                            "traceId": f"{n:032x}", "spanId": f"{n:016x}",
                            "startTimeUnixNano": str(int(when.timestamp()) * 10**9),
                            "attributes": attributes,
                        }) + "\n")  # fmt: skip


def _litellm(path: Path) -> None:
    """Code review's LLM calls go through the LiteLLM proxy, which reports its own spend: its
    PoC reviews 100 pull requests a day, of 18,000 to 20,000 input tokens (19,000 on average)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["request_id", "call_type", "api_key", "spend", "total_tokens",
                         "prompt_tokens", "completion_tokens", "startTime", "endTime", "model",
                         "custom_llm_provider", "user", "team_id", "request_tags"])  # fmt: skip
        for month in range(3, 18):
            for day in _days(month):
                for k in range(100):
                    tokens_in, tokens_out = 18_000 + 500 * (k % 5), 1_200
                    spend = (tokens_in * 3 + tokens_out * 15) / 1e6
                    when = f"{day} {8 + k // 10}:{k % 10 * 6:02d}:00"
                    writer.writerow([f"cr-{day}-{k}", "acompletion", "code-review-ci",
                                     f"{spend:.6f}", tokens_in + tokens_out, tokens_in,
                                     tokens_out, when, when, "claude-sonnet-4-5", "anthropic",
                                     f"dev-{k}@northwind.example", "engineering",
                                     '["initiative:code-review"]'])  # fmt: skip


def _manual(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["period_start", "period_end", "category", "amount", "currency",
                         "initiative", "business_unit", "description", "fte",
                         "rate_per_month"])  # fmt: skip
        for initiative, fte, rate, first, last in PEOPLE:
            end = [*MONTHS, date(2026, 7, 1)][last]
            writer.writerow([MONTHS[first], end, "development", "", "USD", initiative, "",
                             "Engineers and analysts", fte, rate])  # fmt: skip
        for month in range(1, 18, 3):  # quarterly labelling batches, invoiced in EUR
            end = [*MONTHS, date(2026, 7, 1)][month + 1]
            writer.writerow([MONTHS[month], end, "data", "6400.00", "EUR", "doc-classifier", "",
                             "Labelling vendor batch", "", ""])  # fmt: skip
        writer.writerow(
            [
                MONTHS[0],
                date(2026, 7, 1),
                "operations",
                "27000.00",
                "USD",
                "",
                "operations",
                "AI centre of excellence run costs",
                "",
                "",
            ]
        )
        writer.writerow(
            [
                MONTHS[3],
                MONTHS[9],
                "opportunity",
                "42000.00",
                "USD",
                "fraud-detection",
                "",
                "Risk analysts seconded to labelling",
                "",
                "",
            ]
        )
        writer.writerow([MONTHS[1], MONTHS[2], "data", "3800.00", "USD", "loc-qa", "",
                         "Glossary licence", "", ""])  # fmt: skip


def _rates(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["valid_from", "from_currency", "to_currency", "rate"])
        for n, month in enumerate(MONTHS):
            writer.writerow([month, "EUR", "USD", f"{1.04 + 0.005 * (n % 7):.4f}"])

"""Synthetic cost data for the benchmarks: LLM usage events and FOCUS lines, written by DuckDB in
chunks so that any size fits in memory."""

from __future__ import annotations

from pathlib import Path

import duckdb

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro", "in-house-llm"]
PROVIDERS = ["openai", "openai", "anthropic", "gcp.gemini", "acme"]


def usage_csv(path: Path, rows: int, start: int = 0) -> None:
    """``rows`` events: timestamps over 2025, five models, teams, initiatives and users."""
    models = "[" + ", ".join(f"'{m}'" for m in MODELS) + "]"
    providers = "[" + ", ".join(f"'{p}'" for p in PROVIDERS) + "]"
    duckdb.connect().execute(
        f"""COPY (
            SELECT 'ev-' || i AS event_id,
                TIMESTAMP '2025-01-01' + INTERVAL (i % 31536000) SECOND AS timestamp,
                {providers}[1 + i % 5] AS provider, {models}[1 + i % 5] AS request_model,
                100 + (i * 7919) % 4000 AS input_tokens, 10 + (i * 104729) % 900 AS output_tokens,
                (i * 31) % 100 AS cache_read_tokens,  -- a part of the input tokens
                'team-' || (i % 12) AS team, 'key-' || (i % 40) AS api_key,
                ['loc-qa', 'doc-classifier', 'code-review', 'none'][1 + i % 4] AS initiative,
                'user' || (i % 5000) || '@example.com' AS "user"
            FROM range({start}, {start + rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')"""
    )


def focus_csv(path: Path, rows: int) -> None:
    """``rows`` FOCUS lines over 2025: GPUs, storage, managed AI services, tagged and not."""
    duckdb.connect().execute(
        f"""COPY (
            SELECT 'acct-1' AS BillingAccountId, 'USD' AS BillingCurrency,
                strftime(date_trunc('month', d), '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodStart,
                strftime(d, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
                strftime(d + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
                CASE WHEN i % 50 = 0 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
                round(CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END * (1 + (i * 13) % 997) / 7.0, 6)
                    AS BilledCost,
                round(CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END * (1 + (i * 13) % 997) / 7.0, 6)
                    AS EffectiveCost,
                'AWS' AS ProviderName,
                ['Amazon SageMaker', 'Amazon Bedrock', 'Amazon S3', 'AmazonEC2'][1 + i % 4]
                    AS ServiceName,
                ['AI and Machine Learning', 'AI and Machine Learning', 'Storage', 'Compute']
                    [1 + i % 4] AS ServiceCategory,
                'sub-' || (i % 7) AS SubAccountId,
                CASE i % 5 WHEN 0 THEN NULL
                     WHEN 1 THEN '{{"application": "ai-platform"}}'
                     ELSE '{{"initiative": "' || ['loc-qa', 'doc-classifier', 'code-review']
                          [1 + i % 3] || '"}}' END AS Tags
            FROM (SELECT i, TIMESTAMP '2025-01-01' + INTERVAL (i % 8760) HOUR AS d
                  FROM range({rows}) t(i))
        ) TO '{path}' (HEADER, DELIMITER ',')"""
    )


def generated(work: Path, events: int, focus: int) -> tuple[Path, Path]:
    """The usage file of ``events`` events and the FOCUS file of ``focus`` lines in ``work``,
    generated once and kept."""
    work.mkdir(parents=True, exist_ok=True)
    usage_file, focus_file = work / f"usage-{events}.csv", work / f"focus-{focus}.csv"
    if not usage_file.exists():
        usage_csv(usage_file, events)
    if not focus_file.exists():
        focus_csv(focus_file, focus)
    return usage_file, focus_file


def usage_parquet(folder: Path, rows: int, months: int = 12) -> Path:
    """``rows`` events as a lake keeps gateway logs: Parquet, one folder per month
    (``month=2025-01/``), the usage fields as columns (timestamps typed), written once."""
    if folder.exists():
        return folder
    models = "[" + ", ".join(f"'{m}'" for m in MODELS) + "]"
    providers = "[" + ", ".join(f"'{p}'" for p in PROVIDERS) + "]"
    seconds = months * 30 * 86400
    duckdb.connect().execute(
        f"""COPY (
            SELECT 'ev-' || i AS event_id, ts AS timestamp, strftime(ts, '%Y-%m') AS month,
                {providers}[1 + i % 5] AS provider, {models}[1 + i % 5] AS request_model,
                100 + (i * 7919) % 4000 AS input_tokens, 10 + (i * 104729) % 900 AS output_tokens,
                (i * 31) % 100 AS cache_read_tokens,
                'team-' || (i % 12) AS team, 'key-' || (i % 40) AS api_key,
                ['loc-qa', 'doc-classifier', 'code-review', 'none'][1 + i % 4] AS initiative
            FROM (SELECT i, TIMESTAMP '2025-01-01' + INTERVAL (i * {seconds} // {rows}) SECOND AS ts
                  FROM range({rows}) t(i))
        ) TO '{folder}' (FORMAT PARQUET, PARTITION_BY (month))"""
    )
    return folder

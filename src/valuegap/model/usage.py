"""A usage event as the ledger keeps it: its fields, the token counts among them, the
operations that are inference calls, and how a source counts cache and reasoning tokens."""

from __future__ import annotations

from typing import Literal

from valuegap.records import record

UsageFormat = Literal["otel", "litellm", "csv"]  # what a usage file is
FIELDS: tuple[str, ...] = (
    "event_id", "timestamp", "provider", "request_model", "response_model", "operation",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost", "currency", "api_key", "team", "initiative", "user",
)  # fmt: skip
TOKEN_FIELDS = (
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
)  # fmt: skip
# gen_ai.operation.name values of inference calls (and older instrumentations' spellings).
INFERENCE_OPERATIONS = (
    "chat", "text_completion", "completion", "generate_content", "embeddings", "embedding",
    "responses",
)  # fmt: skip


@record
class TokenCounts:
    """How a source counts cache and reasoning tokens. ``included`` (the OpenTelemetry GenAI
    conventions): cache tokens are part of the input tokens, reasoning tokens part of the
    output tokens. ``separate``: the source counts them apart (Anthropic's API does for cache
    tokens, Gemini's for reasoning tokens), and valuegap adds them in."""

    cache: Literal["included", "separate"] = "included"
    reasoning: Literal["included", "separate"] = "included"

"""Token prices: the ``genai-prices`` catalogue at the event's time, and organisation overrides.

An event's cost, as genai-prices computes it for token usage (cached tokens are part of the
input tokens, reasoning tokens part of the output tokens, each priced at its own rate when the
catalogue has one, else at the rate of the tokens it is part of):

    input  x (input_tokens - cache_read_tokens - cache_write_tokens)
  + cache_read x cache_read_tokens + cache_write x cache_write_tokens
  + output x (output_tokens - reasoning_tokens) + reasoning x reasoning_tokens
  + per_request

Tiered prices (a higher rate when a request's input passes a threshold) become one ``Rates`` per
tier. A model the catalogue does not know, or prices in other units than tokens, is unpriced:
never zero.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

MILLION = Decimal(1_000_000)

# OpenTelemetry's gen_ai.provider.name values -> genai-prices provider ids.
PROVIDER_ALIASES = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "mistral_ai": "mistral",
    "deepseek": "deepseek",
}

_KEYS = {  # Rates field -> catalogue price key
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "reasoning": "output_reasoning_mtok",
}


@dataclass(frozen=True)
class Rates:
    """Prices per token (per request for ``per_request``) that apply when a request's input
    tokens exceed ``above`` (-1: always)."""

    above: int
    input: Decimal | None
    output: Decimal | None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    per_request: Decimal | None = None


@dataclass(frozen=True)
class CatalogueMatch:
    provider: str
    model: str
    rates: tuple[Rates, ...]


def catalogue_rates(provider: str | None, model: str, at: datetime) -> CatalogueMatch | None:
    """The catalogue's token prices for ``model`` at ``at``, or None when it has none."""
    found = _find(PROVIDER_ALIASES.get(provider or "", provider), model)
    if found is None:
        return None
    provider_info, model_info = found
    prices = model_info.get_prices(at if at.tzinfo else at.replace(tzinfo=UTC)).__dict__
    if prices.get("input_mtok") is None and prices.get("output_mtok") is None:
        return None
    thresholds = sorted({-1} | {
        tier.start for value in prices.values() for tier in getattr(value, "tiers", ())
    })  # fmt: skip
    rates = tuple(
        Rates(
            above,
            **{field: _per_token(prices.get(key), above) for field, key in _KEYS.items()},
            per_request=_per_request(prices.get("requests_kcount")),
        )
        for above in thresholds
    )
    return CatalogueMatch(provider_info.id, model_info.id, rates)


@functools.lru_cache(maxsize=4096)
def _find(provider: str | None, model: str) -> tuple[Any, Any] | None:
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    for provider_id in (provider, None) if provider else (None,):
        try:
            return snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            continue
    return None


def _per_token(price: Any, above: int) -> Decimal | None:
    if price is None:
        return None
    if isinstance(price, Decimal):
        return price / MILLION
    applicable = price.base
    for tier in price.tiers:  # ascending; the highest tier whose start is passed applies
        if above >= tier.start:
            applicable = tier.price
    return Decimal(applicable) / MILLION


def _per_request(price_per_thousand: Any) -> Decimal | None:
    return None if price_per_thousand is None else Decimal(price_per_thousand) / 1000

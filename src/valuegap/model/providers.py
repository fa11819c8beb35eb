"""Provider names across the three places that name a provider: usage events, the price
catalogue and cloud invoices.

- A usage event names its provider as its source spells it: OpenTelemetry's
  ``gen_ai.provider.name`` (``aws.bedrock``, ``gcp.vertex_ai``), LiteLLM's
  ``custom_llm_provider`` (``bedrock``, ``vertex_ai``), or what a CSV file says. ``canonical``
  turns each into the OpenTelemetry name, after the organisation's own aliases
  (``my-gateway = "openai"`` in the settings).
- The price catalogue (genai-prices) has provider ids of its own (``aws``, ``google``):
  ``catalogue_id``. It is also the provider's key in reconciliation and in counting a dollar
  once: the usage events of provider key ``aws`` are the allocation key of the invoice lines
  that bill ``aws`` tokens.
- A FOCUS invoice bills a provider's tokens under some of its services: ``TOKEN_SERVICES``
  says which, by the invoice's provider and service names. Other AI services (GPUs, document
  AI, search) are not token services and stay lines of their own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from valuegap.records import record

# How sources spell a provider -> its OpenTelemetry name (gen_ai.provider.name).
CANONICAL = {
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "xai": "x_ai",
    "mistral": "mistral_ai",
    "cohere_chat": "cohere",
}

# OpenTelemetry names -> genai-prices provider ids (where they differ).
CATALOGUE_IDS = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
    "ibm.watsonx.ai": "ibm",
}


def canonical(provider: str | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """The OpenTelemetry name of ``provider`` as a source spelled it (letter case aside), after
    the organisation's ``aliases`` (their names in lower case); None when the source named no
    provider."""
    if provider is None or not provider.strip():
        return None
    name = provider.strip().lower()
    name = (aliases or {}).get(name, name)
    return CANONICAL.get(name, name)


def catalogue_id(provider: str | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """The genai-prices provider id for ``provider``, and its key in reconciliation."""
    name = canonical(provider, aliases)
    return None if name is None else CATALOGUE_IDS.get(name, name)


@record
class TokenService:
    """FOCUS lines whose provider and service match these patterns (``*`` matches any text,
    letter case aside) bill the tokens of the usage events of ``usage_provider``. An empty
    ``usage_provider`` says that the lines are not token spend (an organisation's exception
    to a default)."""

    invoice_provider: str
    service: str
    usage_provider: str

    def key(self, aliases: Mapping[str, str] | None = None) -> str | None:
        """The provider key of the usage events these lines bill (None: no token service)."""
        return catalogue_id(self.usage_provider, aliases) if self.usage_provider else None


# The major clouds' and providers' token services. Tried in order; the first match wins, and
# the organisation's own entries (settings) are tried before these.
TOKEN_SERVICES: tuple[TokenService, ...] = (
    TokenService("*", "amazon bedrock*", "aws.bedrock"),
    TokenService("*", "*(amazon bedrock edition)", "aws.bedrock"),
    TokenService("*", "azure openai*", "azure.ai.openai"),
    TokenService("*", "*foundry models*", "azure.ai.openai"),
    TokenService("*", "vertex ai*", "gcp.vertex_ai"),
    TokenService("*", "gemini api*", "gcp.gemini"),
    TokenService("*", "generative language api*", "gcp.gemini"),
    TokenService("openai*", "*", "openai"),
    TokenService("anthropic*", "*", "anthropic"),
)


@functools.lru_cache(maxsize=256)
def _pattern(glob: str) -> re.Pattern[str]:
    """A regular expression matching whole text, letter case aside, for a ``*`` pattern."""
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")), re.IGNORECASE)


def token_service_key(
    services: Sequence[TokenService],
    invoice_provider: str | None,
    service: str | None,
    aliases: Mapping[str, str] | None = None,
) -> str | None:
    """The provider key whose tokens an invoice line bills, or None: the first of
    ``services`` whose patterns match."""
    for entry in services:
        if _pattern(entry.invoice_provider).fullmatch(invoice_provider or "") and _pattern(
            entry.service
        ).fullmatch(service or ""):
            return entry.key(aliases)
    return None

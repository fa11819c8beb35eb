"""Token prices: the ``genai-prices`` catalogue at the event's time, and organisation overrides.

An event's cost, as genai-prices computes it for token usage (cached tokens are part of the
input tokens, reasoning tokens part of the output tokens, each priced at its own rate when the
catalogue has one, else at the rate of the tokens it is part of):

    input  x (input_tokens - cache_read_tokens - cache_write_tokens)
  + cache_read x cache_read_tokens + cache_write x cache_write_tokens
  + output x (output_tokens - reasoning_tokens) + reasoning x reasoning_tokens
  + per_request

Tiered prices (a higher rate when a request's input passes a threshold) become one ``Rates`` per
tier. An event is priced only when the catalogue has its provider and model together: a provider
the catalogue does not know (unless the organisation maps it to one), a model that is not that
provider's, or prices in other units than tokens, leave it unpriced, never priced as zero or at
another provider's price.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from valuegap.records import record

MILLION = Decimal(1_000_000)

_KEYS = {  # Rates field -> catalogue price key
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "reasoning": "output_reasoning_mtok",
}


@record
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


def catalogue_rates(provider: str | None, model: str, at: datetime) -> tuple[Rates, ...] | None:
    """The catalogue's token prices for ``model`` of ``provider`` (a genai-prices provider id,
    see ``model.providers.catalogue_id``) at ``at``, one per tier of input tokens, or None
    when it has none."""
    prices = _prices(provider, model, at)
    if isinstance(prices, str):
        return None
    thresholds = sorted({-1} | {
        tier.start for value in prices.values() for tier in getattr(value, "tiers", ())
    })  # fmt: skip
    return tuple(
        Rates(
            above,
            **{field: _per_token(prices.get(key), above) for field, key in _KEYS.items()},
            per_request=_per_request(prices.get("requests_kcount")),
        )
        for above in thresholds
    )


def unpriced_reason(provider: str | None, model: str | None, at: datetime) -> str:
    """Why the catalogue cannot price ``model`` of ``provider`` at ``at`` (see
    ``catalogue_rates``), in words that say what to do."""
    if model is None:
        return "no model: the event names neither a request nor a response model"
    found = _prices(provider, model, at)
    return found if isinstance(found, str) else "the catalogue prices it"


def _prices(provider: str | None, model: str, at: datetime) -> dict[str, Any] | str:
    """The catalogue's prices of ``model`` of ``provider`` at ``at``, or why there are none."""
    if provider is None:
        return "no provider: the event does not say whose model it is"
    found = _find(provider, model)
    if isinstance(found, str):
        return found
    prices: dict[str, Any] = found.get_prices(at if at.tzinfo else at.replace(tzinfo=UTC)).__dict__
    if prices.get("input_mtok") is None and prices.get("output_mtok") is None:
        return f"the catalogue has no token price for {model} at that time"
    return prices


@functools.lru_cache(maxsize=4096)
def _find(provider: str, model: str) -> Any:
    """The catalogue's model info for ``model`` of ``provider``, or why there is none (text)."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    try:
        snapshot.find_provider(None, provider, None)
    except LookupError:
        return (
            f"the catalogue does not know the provider {provider!r} (map it to a provider it "
            "knows in the setting provider_aliases, or set an organisation price)"
        )
    try:
        return snapshot.find_provider_model(model, None, provider, None)[1]
    except LookupError:
        return f"the catalogue has no model {model!r} of the provider {provider!r}"


def catalogue_provider(model: str) -> str | None:
    """The genai-prices provider id whose model ``model`` is, as the catalogue matches a model
    by its name alone; None when it knows no such model."""
    from genai_prices import data_snapshot

    try:
        provider, _ = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return None
    return str(provider.id)


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


@record
class Override:
    """An organisation's price for ``model`` (requested or responding) of ``provider`` (a
    genai-prices provider id, or '' for any provider), per million tokens in ``currency``, on
    the days [valid_from, valid_to) (no valid_to: until further notice)."""

    model: str
    provider: str
    valid_from: date
    valid_to: date | None
    currency: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cache_read_per_mtok: Decimal | None = None
    cache_write_per_mtok: Decimal | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def overlaps(self, other: Override) -> bool:
        ends = (self.valid_to or date.max, other.valid_to or date.max)
        return self.valid_from < ends[1] and other.valid_from < ends[0]

    @property
    def rates(self) -> Rates:
        def per_token(per_million: Decimal | None) -> Decimal | None:
            return None if per_million is None else per_million / MILLION

        return Rates(
            -1,
            per_token(self.input_per_mtok),
            per_token(self.output_per_mtok),
            per_token(self.cache_read_per_mtok),
            per_token(self.cache_write_per_mtok),
        )


@record
class Price:
    """The rates that price an event, where they come from, and their currency."""

    source: str  # catalogue | override
    currency: str
    tiers: tuple[Rates, ...]


Lookup = Callable[[str | None, str, datetime], tuple[Rates, ...] | None]


@record
class Pricer:
    """Prices usage as the organisation has it: its overrides first, then the catalogue."""

    overrides: Sequence[Override] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    catalogue: Lookup = catalogue_rates

    def price(
        self, provider: str | None, model: str | None, request_model: str | None, at: datetime
    ) -> Price | None:
        """The price of an event of ``provider`` (as its source spelled it), priced as
        ``model`` (its response model, else its request model), at ``at``. A provider's own
        override wins over one for any provider, and the priced model's over the requested
        model's."""
        from valuegap.model.providers import catalogue_id

        key = catalogue_id(provider, self.aliases)
        day = at.date()
        for name in dict.fromkeys(m for m in (model, request_model) if m):
            for scope in (key, ""):
                for override in self.overrides:
                    if (
                        override.model == name
                        and override.provider == scope
                        and override.covers(day)
                    ):
                        return Price("override", override.currency, (override.rates,))
        if model is None:
            return None
        found = self.catalogue(key, model, at)
        return None if found is None else Price("catalogue", "USD", found)

    def unpriced_reason(self, provider: str | None, model: str | None, at: datetime) -> str:
        from valuegap.model.providers import catalogue_id

        return unpriced_reason(catalogue_id(provider, self.aliases), model, at)

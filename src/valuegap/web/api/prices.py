"""``/api/v1/prices``: the organisation's token prices (negotiated or self-hosted), beside the
catalogue's, and the usage no price covers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from valuegap.costs.prices_api import PriceOverride, UnpricedUsage
from valuegap.ledger import Ledger
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["prices"], responses=PROBLEMS)

Reader = Annotated[Ledger, acting("read")]
Writer = Annotated[Ledger, acting("cost.write")]
Provider = Annotated[
    str | None,
    Query(description="Only this provider's calls (e.g. openai, aws.bedrock); default: any."),
]


class NewPrice(BaseModel):
    """A price per million tokens in ``currency``, on the days [valid_from, valid_to)."""

    model: str = Field(min_length=1)
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    valid_from: date
    valid_to: date | None = Field(
        None, description="The first day it no longer applies (default: until further notice)."
    )
    provider: str | None = Field(None, description="Only this provider's calls; default: any.")
    currency: str = "USD"
    cache_read_per_mtok: Decimal | None = None
    cache_write_per_mtok: Decimal | None = None


class Repriced(BaseModel):
    """How many stored model calls were priced again."""

    repriced: int


@router.get("/prices", response_model=list[PriceOverride])
def price_overrides(ledger: Reader) -> JSONResponse:
    """The organisation's prices (per million tokens), beside the catalogue's price of the
    same model."""
    return answer(ledger.costs.prices.price_overrides())


@router.put("/prices", response_model=Repriced)
def set_price(price: NewPrice, ledger: Writer) -> Repriced:
    """Set a negotiated or self-hosted price; it reprices exactly the calls it covers, and
    ends an earlier open-ended price of the same model and provider where it begins."""
    count = ledger.costs.prices.set_price(
        price.model,
        input_per_mtok=price.input_per_mtok,
        output_per_mtok=price.output_per_mtok,
        valid_from=price.valid_from,
        valid_to=price.valid_to,
        provider=price.provider,
        currency=price.currency,
        cache_read_per_mtok=price.cache_read_per_mtok,
        cache_write_per_mtok=price.cache_write_per_mtok,
    )
    return Repriced(repriced=count)


@router.delete("/prices", response_model=Repriced)
def unset_price(
    model: Annotated[str, Query(min_length=1)],
    valid_from: Annotated[date, Query(description="The first day of the price to remove.")],
    ledger: Writer,
    provider: Provider = None,
) -> Repriced:
    """Remove an organisation price: the calls it covered get their catalogue price back."""
    count = ledger.costs.prices.unset_price(model, valid_from=valid_from, provider=provider)
    return Repriced(repriced=count)


@router.post("/prices/refresh", response_model=Repriced)
def refresh_prices(ledger: Writer) -> Repriced:
    """Price every stored call again with the prices and provider aliases in force."""
    return Repriced(repriced=ledger.costs.prices.refresh_prices())


@router.get("/prices/unpriced", response_model=list[UnpricedUsage])
def unpriced_usage(ledger: Reader) -> JSONResponse:
    """Usage that has no reported cost and no price, with the reason: never counted as zero
    silently."""
    return answer(ledger.costs.prices.unpriced_usage())

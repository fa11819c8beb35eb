"""Adaptive ROI scenarios: an initiative's inference cost and adoption ramp under changes.

What a scenario changes (``ScenarioChanges``; each is optional and they compose):

- ``volume``: the requests a day, week or month to price (``100000/day``). The factor is that
  volume over the volume observed in the window: 100 requests a day observed, 100,000 wanted,
  x1,000. It scales tokens and requests alike.
- ``tokens_per_request``: a change of the tokens of each request (``+20%``: x1.2), every kind
  of token alike (input, output, cached, reasoning); requests stay as they are.
- ``token_price``: a change of every token price (``-50%``: x0.5); a price per request
  stays as it is.
- ``model``: the same tokens and requests priced as another model's: the organisation's price
  of it, else the catalogue's.
- ``ramp``: ``slower`` stretches the adoption ramp in time by 1.5 (its midpoint month x1.5,
  its steepness / 1.5: adoption in month m is the plan's in month m / 1.5), ``faster``
  compresses it by 1.5 (midpoint / 1.5, steepness x1.5).

Together, for each model's tokens T (by kind) and requests R in the window, at the rates r of
the model priced (``price x changes``):

    inference = token_price x tokens_per_request x volume x (r_tokens . T)
              + volume x r_request x R

and fixed cost (everything that is not priced per token) stays as it is.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from valuegap.bounds import WIDE
from valuegap.errors import Problem, ValidationError
from valuegap.forecast.ramp import Plan
from valuegap.model.pricing import Rates
from valuegap.records import record

Ramp = Literal["slower", "faster"]
Per = Literal["day", "week", "month"]
RAMP_STRETCH = Decimal("1.5")  # how much slower (or faster) a slower (faster) ramp is
_PERCENT = re.compile(r"^([+-]?\d+(?:\.\d+)?)%$")
_VOLUME = re.compile(r"^(\d+(?:\.\d+)?)/(\w+)$")
_MAX_FACTOR = Decimal(10) ** 9  # a scenario bigger than a billion times the window's is a typo


@record
class Volume:
    """Requests ``per`` day, week or month."""

    requests: Decimal
    per: Per

    def __str__(self) -> str:
        return f"{self.requests.normalize():f}/{self.per}"


@record
class ScenarioChanges:
    """What a scenario changes (see the module's doc); None: unchanged. ``token_price`` and
    ``tokens_per_request`` are fractions of change: -0.5 is -50 %."""

    token_price: Decimal | None = None
    model: str | None = None
    volume: Volume | None = None
    tokens_per_request: Decimal | None = None
    ramp: Ramp | None = None

    @classmethod
    def parse(
        cls,
        *,
        token_price: str | None = None,
        model: str | None = None,
        volume: str | None = None,
        tokens_per_request: str | None = None,
        ramp: str | None = None,
    ) -> ScenarioChanges:
        """Changes as people write them: ``-50%``, ``100000/day``, ``slower``; an error names
        each field that is not understood."""
        problems: list[Problem] = []
        changes = cls(
            token_price=_percent("token_price", token_price, problems),
            model=_model(model, problems),
            volume=_volume(volume, problems),
            tokens_per_request=_percent("tokens_per_request", tokens_per_request, problems),
            ramp=_ramp(ramp, problems),
        )
        if problems:
            raise ValidationError("The scenario's changes are not understood.", problems)
        return changes

    def text(self) -> dict[str, str]:
        """The changes as ``parse`` reads them (the unchanged left out)."""
        found = {
            "token_price": _percent_text(self.token_price),
            "model": self.model,
            "volume": None if self.volume is None else str(self.volume),
            "tokens_per_request": _percent_text(self.tokens_per_request),
            "ramp": self.ramp,
        }
        return {k: v for k, v in found.items() if v is not None}

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.text().items()) or "no change"


def _percent(field: str, text: str | None, problems: list[Problem]) -> Decimal | None:
    if text is None:
        return None
    found = _PERCENT.match(text.strip())
    change = Decimal(found.group(1)) / 100 if found else None
    if change is None or change <= -1 or change > _MAX_FACTOR:
        problems.append(
            Problem(field, "must be a change in per cent above -100%, such as -50% or +20%", text)
        )
        return None
    return change


def _percent_text(change: Decimal | None) -> str | None:
    if change is None:
        return None
    return f"{'+' if change >= 0 else ''}{(change * 100).normalize():f}%"


def _model(text: str | None, problems: list[Problem]) -> str | None:
    if text is not None and not text.strip():
        problems.append(Problem("model", "must name a model, such as gpt-4o-mini", text))
        return None
    return None if text is None else text.strip()


def _volume(text: str | None, problems: list[Problem]) -> Volume | None:
    if text is None:
        return None
    found = _VOLUME.match(text.strip().replace(",", "").replace("_", ""))
    if found is None or found.group(2) not in ("day", "week", "month"):
        problems.append(
            Problem("volume", "must be requests per day, week or month, such as 100000/day", text)
        )
        return None
    requests = Decimal(found.group(1))
    if not 0 < requests <= _MAX_FACTOR * 1000:
        problems.append(Problem("volume", "must be more than 0 requests", text))
        return None
    per: Per = found.group(2)  # type: ignore[assignment]
    return Volume(requests, per)


def _ramp(text: str | None, problems: list[Problem]) -> Ramp | None:
    if text is None or text in ("slower", "faster"):
        return text  # type: ignore[return-value]
    problems.append(Problem("ramp", "must be slower or faster", text))
    return None


@record
class ModelUsage:
    """One model's calls in the window: tokens by kind and requests (decimal: usage shared
    with other initiatives is apportioned)."""

    provider: str | None
    model: str
    input_tokens: Decimal
    output_tokens: Decimal
    cache_read_tokens: Decimal
    cache_write_tokens: Decimal
    reasoning_tokens: Decimal
    requests: Decimal


def token_cost(usage: ModelUsage, rates: Rates) -> Decimal:
    """What ``usage``'s tokens cost at ``rates`` (``model.pricing``: a cached or reasoning
    token without a rate of its own costs what the input or output token it is part of costs).
    """
    input_rate, output_rate = rates.input or Decimal(0), rates.output or Decimal(0)
    cache_read = input_rate if rates.cache_read is None else rates.cache_read
    cache_write = input_rate if rates.cache_write is None else rates.cache_write
    reasoning = output_rate if rates.reasoning is None else rates.reasoning
    plain_input = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    plain_output = usage.output_tokens - usage.reasoning_tokens
    return (
        input_rate * plain_input
        + cache_read * usage.cache_read_tokens
        + cache_write * usage.cache_write_tokens
        + output_rate * plain_output
        + reasoning * usage.reasoning_tokens
    )


def request_cost(usage: ModelUsage, rates: Rates) -> Decimal:
    return (rates.per_request or Decimal(0)) * usage.requests


def tier(tiers: tuple[Rates, ...], input_per_request: Decimal) -> Rates:
    """The rates of the tier a request with ``input_per_request`` input tokens falls in."""
    found = tiers[0]
    for rates in tiers:  # ascending by ``above``
        if input_per_request > rates.above:
            found = rates
    return found


def inference_cost(
    usage: ModelUsage, tiers: tuple[Rates, ...], changes: ScenarioChanges, volume: Fraction
) -> Decimal:
    """The cost of ``usage`` under ``changes`` at ``tiers`` (the rates of the model priced),
    ``volume`` being the volume factor. A tiered price applies the tier of the window's average
    request (its input tokens, changed by ``tokens_per_request``)."""
    per_request = 1 + (changes.tokens_per_request or 0)
    price = 1 + (changes.token_price or 0)
    average = WIDE.divide(usage.input_tokens * per_request, usage.requests or 1)
    rates = tier(tiers, average)
    cost = price * per_request * token_cost(usage, rates) + request_cost(usage, rates)
    return as_decimal(Fraction(cost) * volume)  # divided last: 3,000,000 of 180 calls is exact


def as_decimal(fraction: Fraction) -> Decimal:
    return WIDE.divide(Decimal(fraction.numerator), Decimal(fraction.denominator))


def with_ramp(plan: Plan, ramp: Ramp | None) -> Plan:
    """``plan`` with its adoption ramp stretched (slower) or compressed (faster) in time."""
    if ramp is None:
        return plan
    factor = RAMP_STRETCH if ramp == "slower" else WIDE.divide(1, RAMP_STRETCH)
    return replace(
        plan,
        midpoint_month=plan.midpoint_month * factor,
        steepness=WIDE.divide(plan.steepness, factor),
    )


def volume_factor(volume: Volume | None, requests: Decimal, days: int) -> Fraction:
    """The factor that takes ``requests`` observed in a window of ``days`` days to ``volume``
    (1 without one), exactly: a cost is divided last."""
    if volume is None:
        return Fraction(1)
    if not requests:
        raise ValidationError(
            "The scenario cannot scale the volume: the initiative made no requests in the window.",
            [Problem("volume", "needs requests observed in the window", str(volume))],
        )
    days_per = {"day": Decimal(1), "week": Decimal(7), "month": Decimal(days)}[volume.per]
    return Fraction(volume.requests * days) / Fraction(requests * days_per)

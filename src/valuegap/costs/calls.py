"""Each initiative's LLM calls: requests and each kind of token, by provider and model,
allocated as their cost is (``costs.allocation``).

A usage sum goes wholly to the initiative a rule gives it (on its API key, team, tags, the
calls' initiative attribute...); where a split rule divides its cost, each initiative counts its
share of the calls (60/40: 0.6 and 0.4 of the requests and of each kind of token). Calls no rule
allocates to an initiative are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from valuegap.costs.allocation import USAGE_SOURCES, AllocatedPart, sort_key
from valuegap.forecast.scenario import ModelUsage
from valuegap.model.usage import TOKEN_FIELDS
from valuegap.records import record

COUNTS = (*TOKEN_FIELDS, "requests")


@record
class InitiativeCalls(ModelUsage):
    """An initiative's calls of a model in a month (decimal: a split counts a share of them):
    a scenario prices them as they are."""

    initiative: str


def initiative_calls(
    summed: Sequence[Mapping[str, Any]], parts: Iterable[AllocatedPart]
) -> list[InitiativeCalls]:
    """The calls of the usage sums ``summed`` (each kind of token and requests, by ``model``
    among others; ``rollup.summed_lines(token_kinds=True)``) that their allocated ``parts``
    give to initiatives, by initiative, provider and model."""
    found: dict[tuple[str, str | None, str], dict[str, Decimal]] = {}
    for part in parts:
        line = summed[part.line]
        if part.initiative is None or line["source"] not in USAGE_SOURCES:
            continue  # an invoice's part is cost, not calls: its usage sums are counted
        if line["model"] is None:
            continue  # no model to price its calls as
        key = (part.initiative, line["provider"], line["model"])
        counts = found.setdefault(key, dict.fromkeys(COUNTS, Decimal(0)))
        for name in COUNTS:
            counts[name] += line[name] * part.share
    return [
        InitiativeCalls(provider, model, **counts, initiative=initiative)
        for (initiative, provider, model), counts in sorted(
            found.items(), key=lambda item: sort_key(item[0])
        )
    ]

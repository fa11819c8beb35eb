"""Allocation rules: which initiative and business unit a cost belongs to.

Rules are tried in order and the first match wins. A rule gives the cost to one initiative, to
a business unit as its own overhead, or splits it among initiatives: ``even``, ``fixed`` shares,
or ``proportional`` to a driver of the same month (``cost``: the initiatives' directly allocated
cost from every source; ``usage_cost``, ``tokens``, ``requests``: their usage events'). Cost
that no rule gives to an initiative or a unit is unallocated, and reports show it as such.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from valuegap.decimals import plain
from valuegap.errors import Problem, ValidationError
from valuegap.model.manual import Category
from valuegap.model.portfolio import Number, Slug

UNALLOCATED = "(unallocated)"  # the initiative and business unit of cost no rule allocates
UNIT_OVERHEAD = "(unit overhead)"  # the initiative of a business unit's own cost

MATCH_KEYS = (
    "sub_account", "api_key", "model", "service", "service_category", "provider", "team",
    "source",
)  # fmt: skip


class _Model(BaseModel):
    # defer_build: the validator is built when a rule is first read, not on import.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Split(_Model):
    method: Literal["even", "proportional", "fixed"]
    among: list[Slug] = Field(default_factory=list)
    driver: Literal["cost", "usage_cost", "tokens", "requests"] | None = None
    shares: dict[Slug, Number] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Split:
        if self.method == "fixed":
            if not self.shares:
                raise ValueError("a fixed split needs shares: {initiative: share, ...}")
            if sum(self.shares.values()) != 1:
                raise ValueError(f"fixed shares must add up to 1 (they add up to "
                                 f"{sum(self.shares.values())})")  # fmt: skip
            if any(v <= 0 for v in self.shares.values()):
                raise ValueError("fixed shares must be positive")
        elif len(self.among) < 2:
            raise ValueError(f"a {self.method} split needs at least two initiatives in among")
        if self.method == "proportional" and self.driver is None:
            raise ValueError(
                "a proportional split needs a driver: cost, usage_cost, tokens or requests"
            )
        if self.method != "proportional" and self.driver is not None:
            raise ValueError("only a proportional split has a driver")
        return self

    @property
    def initiatives(self) -> list[str]:
        return list(self.shares) if self.method == "fixed" and self.shares else self.among


MatchValue = Annotated[str | list[str], Field(min_length=1)]


class Rule(_Model):
    id: Slug
    match: dict[str, MatchValue] = Field(min_length=1)
    initiative: Slug | None = None
    business_unit: Slug | None = None
    category: Category | None = None
    split: Split | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        unknown = [k for k in self.match if k not in MATCH_KEYS and not k.startswith("tag.")]
        if unknown:
            raise ValueError(f"unknown match key {unknown[0]!r}; the keys are tag.<key>, "
                             f"{', '.join(MATCH_KEYS)}")  # fmt: skip
        if self.initiative is not None and self.split is not None:
            raise ValueError("a rule gives an initiative or a split, not both")
        if self.initiative is None and self.split is None and self.business_unit is None:
            raise ValueError("a rule gives an initiative, a business unit or a split")
        if self.split is not None and self.business_unit is not None:
            raise ValueError("a split rule takes each initiative's own business unit")
        return self

    def values(self, key: str) -> list[str]:
        value = self.match[key]
        return [value] if isinstance(value, str) else value


class RuleSet(_Model):
    rules: list[Rule] = Field(default_factory=list)


def stored_rules(rules: RuleSet) -> str:
    """The rules as the ledger keeps them: JSON (which is YAML too), amounts as plain numbers,
    so that reading them back (``read_stored_rules``) needs no YAML parser: importing one takes
    a report that reads the rules 40 to 70 ms."""
    return _json(rules.model_dump(exclude_none=True))


def read_stored_rules(text: str) -> RuleSet:
    """The rules ``stored_rules`` wrote, or the YAML that earlier versions stored."""
    if text.startswith("{"):
        return RuleSet.model_validate(json.loads(text, parse_float=Decimal))
    from valuegap.yamlio import load_yaml

    return RuleSet.model_validate(load_yaml(text))


def _json(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json(item) for item in value) + "]"
    if isinstance(value, Decimal):  # as the YAML kept it: 2, 0.25 (never 2.00 or 2.5E-1)
        return str(plain(value))
    return json.dumps(value, ensure_ascii=False)


def check_rules(rules: RuleSet, initiatives: set[str], source: str) -> None:
    """Refuse the whole rule set for ids used twice or initiatives the ledger does not have."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for n, rule in enumerate(rules.rules):
        where = f"rules[{n}] ({rule.id})"
        if rule.id in seen:
            problems.append(Problem(f"{where}.id", "is used by an earlier rule too", rule.id))
        seen.add(rule.id)
        named = (
            [rule.initiative] if rule.initiative else rule.split.initiatives if rule.split else []
        )
        for name in named:
            if name not in initiatives:
                problems.append(Problem(where, "names an initiative this ledger does not have",
                                        name))  # fmt: skip
    if problems:
        raise ValidationError(f"{source} was refused; the rules in force are unchanged.",
                              problems)  # fmt: skip


def fixed_weights(split: Split) -> dict[str, Decimal]:
    """The weights of an even or fixed split (a proportional one's depend on the month)."""
    if split.method == "fixed":
        return dict(split.shares or {})
    return {name: Decimal(1) for name in split.among}


# What the rollup's sums (``costs.rollup``) keep whatever the rules and the report look at:
# counting once needs each line's provider and service, and allocation its source, category and
# own assignment.
ALWAYS = ("month", "category", "currency", "source", "initiative", "business_unit",
          "provider", "service")  # fmt: skip


def keys_for(rules: Sequence[Rule], by: Sequence[str] = ()) -> list[str]:
    """What the rollup's sums keep for ``rules`` and a report by ``by``: columns, and tags as
    ``tag:<key>``."""
    rule_keys = [k.replace("tag.", "tag:", 1) for r in rules for k in r.match]
    wanted = [*ALWAYS, *rule_keys, *(k for k in by if k not in ("initiative", "business_unit",
                                                                "basis"))]  # fmt: skip
    return list(dict.fromkeys(wanted))

"""Allocation rules (YAML), hostile: matches, splits, shares and categories changed."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from .conftest import FUZZ, Fresh, holds, written
from .hostile import hostile_file, tree_values, yaml_text

RULES = yaml.safe_load("""
rules:
  - id: ml-team
    match: {tag.team: ml}
    initiative: loc-qa
  - id: bedrock-shared
    match: {service: Amazon Bedrock}
    split: {method: proportional, among: [loc-qa, doc-classifier], driver: cost}
  - id: openai-fixed
    match: {provider: [openai, anthropic]}
    split: {method: fixed, shares: {loc-qa: 0.25, refund-agent: 0.75}}
  - id: even
    match: {model: gpt-4o}
    split: {method: even, among: [loc-qa, refund-agent]}
  - id: storage
    match: {service_category: Storage}
    business_unit: operations
    category: data
""")

SHARES = st.sampled_from(["1e-40", "0.9999999999999999999999", "1e20", "-1", "0", ".nan"])


@st.composite
def rule_files(draw: st.DrawFn) -> tuple[str, bytes]:
    return draw(hostile_file(draw(yaml_text(RULES, tree_values(SHARES))), ".yaml"))


@FUZZ
@given(file=rule_files())
def test_hostile_allocation_rules_are_applied_or_refused_naming_the_file(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.apply_rules(path), names=path.name)

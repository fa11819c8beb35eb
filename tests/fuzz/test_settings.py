"""Settings (valuegap.toml and VALUEGAP_* variables), hostile: a valid file with values, keys
and text changed; then the reports of a ledger opened with what was accepted."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.errors import ConfigError
from valuegap.settings import Settings, load_settings

from .conftest import ACTOR, FUZZ, Fresh, run_reports
from .hostile import encoded, hostile_text, mutated_tree, tree_values

SETTINGS: dict[str, Any] = {
    "reporting_currency": "USD",
    "cost_column": "EffectiveCost",
    "memory_limit": "1GB",
    "threads": 1,
    "confidence_level": 0.9,
    "quality_drift_threshold": 0.05,
    "override_rate_threshold": 0.5,
    "count_uncaptured_capacity": False,
    "person_attributes": ["employee.id"],
    "provider_aliases": {"my-gateway": "openai"},
    "token_counts": {"anthropic": {"cache": "separate"}},
    "token_services": [
        {"invoice_provider": "Acme Cloud", "service": "Acme AI", "usage_provider": "openai"}
    ],
}
NAMES = ("valuegap.toml", *(f.name for f in fields(Settings)))
ENVIRONMENT = (
    "VALUEGAP_REPORTING_CURRENCY",
    "VALUEGAP_CONFIDENCE_LEVEL",
    "VALUEGAP_MEMORY_LIMIT",
    "VALUEGAP_COST_COLUMN",
    "VALUEGAP_COUNT_UNCAPTURED_CAPACITY",
    "VALUEGAP_THREADS",
)


def toml(value: Any) -> str:
    """A TOML value (JSON's spelling of strings, numbers and arrays is TOML's too)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), -float("inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(value, ensure_ascii=False)


@st.composite
def config_files(draw: st.DrawFn) -> bytes:
    tree = draw(mutated_tree(SETTINGS, tree_values()))
    lines = [f"{json.dumps(str(k))} = {toml(v)}" for k, v in tree.items()]
    if lines and draw(st.booleans()):
        lines.append(lines[draw(st.integers(0, len(lines) - 1))])  # a key given twice
    return draw(encoded("\n".join(lines) + "\n"))


@FUZZ
@given(
    config=config_files(),
    env=st.dictionaries(st.sampled_from(ENVIRONMENT), hostile_text, max_size=2),
)
def test_hostile_settings_are_refused_or_every_report_runs_with_them(
    fresh_ledger: Fresh, config: bytes, env: dict[str, str]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = folder / "valuegap.toml"
        path.write_bytes(config)
        db = ledger.path
        try:
            settings = load_settings({"db": db}, env=env, config_file=path)
            with Ledger.open(db, actor=ACTOR, settings=settings) as configured:
                run_reports(configured)
        except ConfigError as refused:
            said = str(refused)
            assert any(name in said for name in NAMES), f"names no file or setting: {said}"

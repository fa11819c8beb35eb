"""The portfolio's vocabulary. Kept free of heavy imports: the CLI's help text uses it."""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal["use_case", "workflow", "agent"]
Stage = Literal["proposed", "poc", "mvp", "production", "scaled", "retired"]
RiskTier = Literal["minimal", "limited", "high", "prohibited"]
Direction = Literal["increase", "decrease"]
Method = Literal["direct", "before_after", "ab_test", "diff_in_diff"]
Autonomy = Literal["suggest", "act_with_approval", "autonomous"]
Control = Literal[
    "role_based_training",
    "sops_updated",
    "usage_monitoring",
    "exception_management",
    "human_authority",
]

KINDS: tuple[str, ...] = get_args(Kind)
STAGES: tuple[str, ...] = get_args(Stage)
RISK_TIERS: tuple[str, ...] = get_args(RiskTier)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
METHODS: tuple[str, ...] = get_args(Method)
CONTROLS: tuple[str, ...] = get_args(Control)
AUTONOMY: tuple[str, ...] = get_args(Autonomy)

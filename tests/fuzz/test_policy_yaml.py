"""Policy files (YAML) whose rules are generated CEL, then the decisions they make: a gate
check and an agent's authorisation, with a generated action, amount and context."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from .conftest import FUZZ, Fresh, holds, written
from .hostile import NUMBERS, cel_expression, hostile_file, hostile_text, tree_values, yaml_text

POLICY = yaml.safe_load("""
layer: initiative
scope: refund-agent
rules:
  - id: refund-limit
    when: {action: issue_refund}
    expr: action.amount == null || action.amount <= 500.0
    effect: require_approval
    message: Refunds above 500 need a person ({action.amount}).
  - id: owner-named
    when: {transition: "*"}
    expr: initiative.owner != null
    effect: deny
    message: Name an owner for {initiative.id}.
""")
LAYERS = [("initiative", "refund-agent"), ("business_unit", "customer-service"),
          ("enterprise", None)]  # fmt: skip


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


amounts = st.one_of(st.none(), st.sampled_from(NUMBERS).map(_decimal), st.decimals())
actions = st.one_of(st.sampled_from(["issue_refund", "send_reply", "delete_everything"]),
                    hostile_text)  # fmt: skip
contexts = st.dictionaries(hostile_text, hostile_text, max_size=3)


@st.composite
def policy_files(draw: st.DrawFn) -> tuple[str, bytes]:
    policy: dict[str, Any] = copy.deepcopy(POLICY)
    policy["layer"], policy["scope"] = draw(st.sampled_from(LAYERS))
    for rule in policy["rules"]:
        rule["expr"] = draw(cel_expression())
    if draw(st.integers(0, 2)) == 0:  # now and then, the file's structure too
        text = draw(yaml_text(policy, tree_values()))
    else:
        text = yaml.safe_dump(policy, sort_keys=False, allow_unicode=True, width=10_000)
    return draw(hostile_file(text, ".yaml"))


@FUZZ
@given(file=policy_files(), action=actions, amount=amounts, context=contexts)
def test_a_hostile_policy_is_applied_or_refused_and_its_decisions_never_crash(
    fresh_ledger: Fresh,
    file: tuple[str, bytes],
    action: str,
    amount: Decimal | None,
    context: dict[str, str],
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(
            ledger,
            lambda: ledger.governance.apply_policy_file(path),
            names=path.name,
            reports=False,
        )
        holds(
            ledger, lambda: ledger.governance.gates.gate_check("refund-agent", "poc"), reports=False
        )
        # each decision is written to the audit log: it is not made twice
        authorize = lambda: ledger.agents.authorize("refund-agent", action, amount, context)  # noqa: E731
        holds(ledger, authorize, again=False, reports=False)

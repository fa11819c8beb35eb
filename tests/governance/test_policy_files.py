"""Policy files: validated whole at load time, with the rule and the position of each problem."""

from __future__ import annotations

import pytest

from valuegap.errors import ValidationError
from valuegap.governance.api import DEFAULT_POLICIES
from valuegap.governance.context import CONTEXT, for_actions, for_transitions
from valuegap.governance.names import check_names, plan_of, pruned
from valuegap.governance.policy import Rule, parse_policy
from valuegap.results import schema, to_data
from valuegap.yamlio import dump_yaml

GOOD = """\
layer: business_unit
scope: risk
rules:
  - id: risk-training
    when: {transition: mvp->production}
    expr: initiative.controls.role_based_training
    effect: deny
    message: Training first.
"""


def _problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        parse_policy(text, "p.yaml", **kwargs)  # type: ignore[arg-type]
    assert refused.value.summary.startswith("p.yaml was refused; no rule was loaded.")
    return [str(p) for p in refused.value.problems]


def test_a_good_file_loads_with_its_rules() -> None:
    policy = parse_policy(GOOD, "p.yaml")
    assert (policy.layer, policy.scope, [r.id for r in policy.rules]) == (
        "business_unit", "risk", ["risk-training"],
    )  # fmt: skip
    [rule] = policy.rules
    assert rule.applies_to("transition", "mvp->production")
    assert not rule.applies_to("transition", "poc->mvp")
    assert rule.paths == {("initiative", "controls", "role_based_training")}


def test_a_policys_json_form_is_its_file_without_the_compiled_program() -> None:
    policy = parse_policy(GOOD, "p.yaml")
    rule = {
        "id": "risk-training",
        "when": {"transition": "mvp->production"},
        "expr": "initiative.controls.role_based_training",
        "effect": "deny",
        "message": "Training first.",
    }
    found = to_data(policy)
    assert found == {"layer": "business_unit", "scope": "risk", "rules": [rule], "version": 0}
    again = {"layer": "business_unit", "scope": "risk", "rules": [rule]}
    assert parse_policy(dump_yaml(again), "again.yaml").rules == policy.rules
    declared = schema(Rule)["properties"]  # what a web layer declares
    assert isinstance(declared, dict) and set(declared) == set(rule)


def test_the_default_pack_loads() -> None:
    pack = parse_policy(DEFAULT_POLICIES.read_text(), "default")
    ids = [r.id for r in pack.rules]
    assert len(ids) == len(set(ids)) == 29
    for transition in ("proposed->poc", "poc->mvp", "mvp->production", "production->scaled",
                       "mvp->retired"):  # fmt: skip
        assert any(r.applies_to("transition", transition) for r in pack.rules), transition
    assert any(r.applies_to("action", "anything") for r in pack.rules)


def test_a_syntax_error_names_the_rule_and_its_position() -> None:
    text = GOOD.replace("expr: initiative.controls.role_based_training",
                        "expr: initiative.stage == ")  # fmt: skip
    [problem] = _problems(text)
    assert problem.startswith("p.yaml, line 4, rules[0] (risk-training).expr: syntax error at 1:20")


def test_an_unknown_field_names_the_rule_the_position_and_the_fields_there() -> None:
    text = GOOD.replace("controls.role_based_training", "controls.role_based_trainning")
    [problem] = _problems(text)
    assert problem.startswith(
        "p.yaml, line 4, rules[0] (risk-training).expr at 1:21: "
        "initiative.controls has no field 'role_based_trainning'"
    )
    assert "role_based_training, sops_updated" in problem


def test_an_unknown_effect_is_refused_and_allow_is_explained() -> None:
    [problem] = _problems(GOOD.replace("effect: deny", "effect: allow"))
    assert "rules[0] (risk-training).effect: is not an effect; the effects are deny, " \
        "require_approval, warn (rules only restrict" in problem  # fmt: skip


def test_every_problem_in_a_file_is_reported_and_nothing_loads() -> None:
    text = (
        GOOD
        + """\
  - id: second
    when: {action: "*"}
    expr: move.to == "scaled"
    effect: warn
    message: Names of transitions are not there for agents.
  - id: third
    when: {transition: mvp->productoin}
    expr: initiative.stage + 1 > 2
    effect: deny
    message: m
    colour: red
  - id: fourth
    when: {transition: "*"}
    expr: initiative.stage
    effect: warn
    message: not a condition
"""
    )
    problems = _problems(text)
    assert any("line 9, rules[1] (second).expr at 1:1: unknown name 'move'" in p for p in problems)
    assert any("line 14, rules[2] (third).colour: is not a key of a rule" in p for p in problems)
    assert any("rules[2] (third).when.transition: must be" in p for p in problems)
    assert any("rules[2] (third).expr: type error" in p for p in problems)
    assert any("rules[3] (fourth).expr: must be true or false" in p for p in problems)


def test_a_lower_layer_cannot_reuse_an_enterprise_rule_id() -> None:
    problems = _problems(GOOD, enterprise_ids=["risk-training"])
    assert problems == [
        "p.yaml, line 4, rules[0] (risk-training): has the id of an enterprise rule; a lower "
        "layer may add rules but can never replace or weaken an enterprise rule: give it an id "
        "of its own"
    ]
    enterprise = GOOD.replace("business_unit", "enterprise").replace("scope: risk", "scope: null")
    assert parse_policy(enterprise, "e.yaml", enterprise_ids=["risk-training"]).rules


def test_layer_and_scope_are_checked() -> None:
    assert _problems(GOOD.replace("scope: risk", "scope: null")) == [
        "p.yaml: scope: must name the business unit these rules are for"
    ]
    problems = _problems(GOOD.replace("layer: business_unit", "layer: department"))
    assert problems[0].startswith("p.yaml: layer: must be one of enterprise, business_unit")


def test_names_are_checked_through_macros_and_maps() -> None:
    transitions, actions = for_transitions(), for_actions()
    assert check_names("metrics.exists(m, m.validated && m.effect > 0.0)", transitions)[0] == []
    [problem], _ = check_names("metrics.all(m, m.validatd)", transitions)
    assert (problem.line, problem.column) == (1, 18)
    assert "has no field 'validatd'" in problem.message
    [problem], _ = check_names("metrics.validated", transitions)
    assert "metrics is a list; ask about its items with metrics.exists(x, x.validated)" in (
        problem.message
    )
    # what an agent passes is a map of anything: guarded with has(), any key may be asked for
    assert check_names("has(action.context.order_id) && 'a.b' != action.name", actions)[0] == []
    assert check_names("action.amount > 1.0", transitions)[0][0].message.startswith(
        "unknown name 'action'"
    )


def test_a_decision_converts_only_the_paths_its_rules_read() -> None:
    context = {
        "initiative": {"stage": "mvp", "controls": {"a": True, "b": False}, "poc": None},
        "action": {"context": {"k": "v"}, "amount": 2.0},
    }
    paths = [("initiative", "controls", "a"), ("action", "context"), ("initiative", "poc", "x")]
    assert pruned(context, plan_of(paths)) == {
        "initiative": {"controls": {"a": True}, "poc": None},
        "action": {"context": {"k": "v"}},
    }


def test_the_context_documentation_names_every_field() -> None:
    from pathlib import Path

    from valuegap.governance.context import SHORTCUTS, ListOf, Node, Schema

    text = (Path(__file__).parents[2] / "docs" / "governance.md").read_text()

    def names(prefix: str, schema: Schema) -> list[str]:
        children = schema.item.fields if isinstance(schema, ListOf) else (
            schema.fields if isinstance(schema, Node) else {})  # fmt: skip
        return [prefix, *(n for k, v in children.items() for n in names(f"{prefix}.{k}", v))]

    missing = [n for k, v in CONTEXT.items() for n in names(k, v)
               if f"`{n}`" not in text and f"`{n.split('.', 1)[-1]}`" not in text]  # fmt: skip
    missing += [n for n in SHORTCUTS if f"`{n}`" not in text]
    assert missing == []


def _rule(expr: str) -> str:
    return (
        "layer: enterprise\nscope: null\nrules:\n  - id: divide\n"
        f'    when: {{transition: "*"}}\n    expr: {expr}\n    effect: deny\n'
        "    message: Never.\n"
    )


def test_a_condition_that_always_divides_by_zero_is_refused() -> None:
    assert _problems(_rule("1 / 0 == 1")) == [
        "p.yaml, line 4, rules[0] (divide).expr: cannot be evaluated: division by zero in CEL "
        "expression (found '1 / 0 == 1')"
    ]


def test_a_division_by_zero_at_decision_time_fails_closed_naming_the_rule() -> None:
    from types import SimpleNamespace

    from valuegap.governance.policy import applicable, decide

    policy = parse_policy(_rule("10 / size(metrics) > 1"), "p.yaml")
    initiative = SimpleNamespace(id="a", business_unit="ops")
    rules = applicable([policy], initiative, "transition", "proposed->poc")
    decision = decide(rules, {"metrics": [], "initiative": {}})
    assert (decision.outcome, decision.rule_ids) == ("deny", ["divide"])
    assert decision.rules[0].error == "could not be evaluated: division by zero in CEL expression"


def test_a_deny_also_names_the_approvals_the_move_would_need() -> None:
    from types import SimpleNamespace

    from valuegap.governance.policy import applicable, decide

    text = (
        "layer: enterprise\nscope: null\nrules:\n"
        "  - {id: blocked, when: {transition: '*'}, expr: 'false', effect: deny, message: No.}\n"
        "  - {id: asked, when: {transition: '*'}, expr: 'false', effect: require_approval,"
        " message: Ask.}\n"
        "  - {id: fine, when: {transition: '*'}, expr: 'true', effect: require_approval,"
        " message: Fine.}\n"
    )
    rules = applicable(
        [parse_policy(text, "p.yaml")],
        SimpleNamespace(id="a", business_unit="ops"),
        "transition",
        "proposed->poc",
    )
    decision = decide(rules, {})
    assert (decision.outcome, decision.rule_ids) == ("deny", ["blocked"])
    assert [(r.id, r.effect, r.held) for r in decision.approval_rules] == [
        ("asked", "require_approval", False)
    ]
    data = to_data(decision)
    assert isinstance(data, dict)
    assert [r["id"] for r in data["approval_rules"]] == ["asked"]
    from valuegap.governance.gates import rule_lines

    assert rule_lines(decision).splitlines() == [  # a refused move's message says it too
        "  - blocked: No.",
        "Once those hold, the move also needs an approval:",
        "  - asked: Ask.",
    ]
    without_the_deny = applicable(
        [parse_policy(text.replace("'false', effect: deny", "'true', effect: deny"), "p.yaml")],
        SimpleNamespace(id="a", business_unit="ops"),
        "transition",
        "proposed->poc",
    )
    asked = decide(without_the_deny, {})
    assert (asked.outcome, asked.rule_ids, asked.approval_rules) == (
        "require_approval",
        ["asked"],
        [],
    )

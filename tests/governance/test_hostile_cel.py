"""CEL expressions are kept within a length and a nesting depth before they reach the CEL library
(whose parser panics on 100,000 nested parentheses), and valid nested comprehensions are
accepted: the names a macro binds are known inside it, at any depth."""

from __future__ import annotations

from pathlib import Path

import cel
import pytest
from typer.testing import CliRunner

from tests.conftest import ready
from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import ValidationError
from valuegap.governance.policy import evaluate_condition, parse_policy
from valuegap.model.portfolio import Portfolio

POLICY = """\
layer: enterprise
rules:
  - id: hostile
    when: {action: "*"}
    expr: 'EXPR'
    effect: deny
    message: No.
"""
DEEP = "(" * 100_000 + "true" + ")" * 100_000


def _policy(expr: str) -> str:
    return POLICY.replace("EXPR", expr)


def _problems(expr: str) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        parse_policy(_policy(expr), "p.yaml")
    return [str(p) for p in refused.value.problems]


def test_100000_nested_parentheses_are_refused_before_the_cel_library(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(_policy(DEEP))
    before = contents(ledger)
    with pytest.raises(ValidationError) as refused:
        ledger.governance.apply_policy_file(path)
    [problem] = refused.value.problems
    # 100,000 "(" + "true" + 100,000 ")"
    assert problem.message == (
        "is 200,004 characters long; the limit is 4,096: split the rule into several rules"
    )
    assert "(200,004 characters in all)" in str(problem)
    assert contents(ledger) == before


def test_the_command_line_prints_the_refusal_not_a_panic(db_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", str(db_path), "--as", "alice"]).exit_code == 0
    path = tmp_path / "p.yaml"
    path.write_text(_policy(DEEP))
    args = ["policy", "apply", str(path), "--db", str(db_path), "--as", "alice"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "the limit is 4,096" in result.stderr
    assert len(result.stderr) < 1_000


def test_an_expression_of_4096_characters_is_accepted_and_one_more_is_not() -> None:
    def expression(length: int) -> str:
        return 'action.name != "' + "x" * (length - len('action.name != ""')) + '"'

    assert len(expression(4_096)) == 4_096
    assert parse_policy(_policy(expression(4_096)), "p.yaml").rules
    [problem] = _problems(expression(4_097))
    assert "is 4,097 characters long; the limit is 4,096" in problem


def test_nesting_deeper_than_32_is_refused_naming_where() -> None:
    assert parse_policy(_policy("(" * 32 + "true" + ")" * 32), "p.yaml").rules
    [problem] = _problems("[" + "(" * 32 + "true" + ")" * 32 + "].size() == 1")
    # the opening bracket, then 32 parentheses: the 33rd opening is character 33
    assert "nests parentheses and brackets more than 32 deep (at character 33)" in problem


def test_brackets_inside_a_string_are_not_nesting() -> None:
    assert parse_policy(_policy('action.name != "' + "(" * 40 + '"'), "p.yaml").rules


def test_a_kill_criterion_is_kept_within_the_limits_too(ledger: Ledger) -> None:
    portfolio = Portfolio.model_validate({"initiatives": [ready("deep", kill_criteria=[DEEP])]})
    before = contents(ledger)
    with pytest.raises(ValidationError) as refused:
        ledger.portfolio.apply(portfolio)
    assert any("the limit is 4,096" in str(p) for p in refused.value.problems)
    assert contents(ledger) == before


NESTED = {
    # expression: its value, worked out by hand
    "[1, 2].all(a, [3, 4].exists(b, b > a))": True,  # 3 > 1 and 3 > 2
    "[1, 5].all(a, [3, 4].exists(b, b > a))": False,  # nothing in [3, 4] exceeds 5
    "[1, 2].map(x, x * 2).all(y, y % 2 == 0)": True,  # 2, 4
    "[[1, 2], [3]].exists(row, row.exists(v, v == 3))": True,
}


@pytest.mark.parametrize("expr", NESTED)
def test_nested_comprehensions_are_accepted_and_evaluated(expr: str) -> None:
    [rule] = parse_policy(_policy(expr), "p.yaml").rules
    assert evaluate_condition(rule.program, cel.Context({})) == (NESTED[expr], None)


def test_a_macro_variable_is_unknown_outside_its_macro() -> None:
    [problem] = _problems("[1].all(a, a > 0) && a > 1")
    assert "at 1:22: unknown name 'a'" in problem

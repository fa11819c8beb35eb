"""Every YAML file (portfolio, allocation rules, policies) is checked at the edge: UTF-8 with or
without a byte order mark; a key given twice in a mapping, nesting deeper than 64 levels and a
file over 10 MiB are refused naming the file and the line; the ledger is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.ledger_contents import contents
from valuegap import Ledger
from valuegap.errors import ValidationError
from valuegap.yamlio import load_yaml

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
RULES = """\
rules:
  - id: qa
    match: {tag.initiative: loc-qa}
    initiative: loc-qa
"""
POLICY = """\
layer: business_unit
scope: operations
rules:
  - id: risk-training
    when: {transition: mvp->production}
    expr: initiative.controls.role_based_training
    effect: deny
    message: Training first.
"""

Apply = Callable[[Ledger, Path], object]
FILES: dict[str, tuple[Apply, str]] = {
    "portfolio": (
        lambda ledger, path: ledger.portfolio.apply_file(path),
        (EXAMPLES / "portfolio.yaml").read_text(),
    ),
    "rules": (lambda ledger, path: ledger.costs.apply_rules(path), RULES),
    "policy": (lambda ledger, path: ledger.governance.apply_policy_file(path), POLICY),
}


@pytest.fixture
def stocked(ledger: Ledger, example_portfolio: Path) -> Ledger:
    ledger.portfolio.apply_file(example_portfolio)
    return ledger


def _refused(ledger: Ledger, kind: str, path: Path) -> ValidationError:
    before = contents(ledger)
    with pytest.raises(ValidationError) as refused:
        FILES[kind][0](ledger, path)
    assert contents(ledger) == before
    return refused.value


@pytest.mark.parametrize("kind", FILES)
def test_a_byte_order_mark_is_read(ledger: Ledger, tmp_path: Path, kind: str) -> None:
    apply, text = FILES[kind]
    if kind != "portfolio":
        ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
    path = tmp_path / f"{kind}.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    apply(ledger, path)
    found = {
        "portfolio": "SELECT count(*) FROM initiatives",  # loc-qa, doc-classifier, refund-agent
        "rules": "SELECT count(*) FROM allocation_rules",
        "policy": "SELECT count(*) FROM policies WHERE layer = 'business_unit'",
    }[kind]
    assert ledger.session.db.one(found) == ((3,) if kind == "portfolio" else (1,))


@pytest.mark.parametrize("kind", FILES)
def test_latin1_is_refused_naming_the_line_and_byte(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    text = FILES[kind][1].encode()
    first, rest = text.split(b"\n", 1)
    data = first + b"\n# caf\xe9 au lait\n" + rest
    path = tmp_path / f"{kind}.yaml"
    path.write_bytes(data)
    [problem] = _refused(stocked, kind, path).problems
    offset = len(first) + len(b"\n# caf")
    assert str(problem) == (
        f"{path}, line 2, byte offset {offset:,}: is not UTF-8 text: save the file as UTF-8 "
        "(with or without a byte order mark) (found b'\\xe9')"
    )


DUPLICATED = {
    # (the file with a key given twice, the key, its lines)
    "portfolio": (
        "initiatives:\n  - id: x\n    name: X\n    kind: use_case\n    name: Y\n",
        "name",
        (3, 5),
    ),
    "rules": (RULES + "    initiative: doc-classifier\n", "initiative", (4, 5)),
    "policy": (
        POLICY.replace("layer: business_unit\n", "layer: business_unit\nlayer: enterprise\n"),
        "layer",
        (1, 2),
    ),
}


@pytest.mark.parametrize("kind", FILES)
def test_a_key_given_twice_is_refused_naming_both_lines(
    stocked: Ledger, tmp_path: Path, kind: str
) -> None:
    text, key, (first, second) = DUPLICATED[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text)
    [problem] = _refused(stocked, kind, path).problems
    assert problem.where.startswith(f"{path}, line {second}, column ")
    assert problem.message == (
        f"the key '{key}' is given twice, on line {first} and on line {second}: keep one"
    )


@pytest.mark.parametrize("kind", FILES)
def test_deep_nesting_is_refused_not_a_crash(stocked: Ledger, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text("rules: " + "[" * 100_000 + "]" * 100_000 + "\n")
    [problem] = _refused(stocked, kind, path).problems
    # the mapping is the first level, so the 64th "[" is the 65th: after "rules: " (7
    # characters) and 63 "[", it is in column 71
    assert (
        str(problem) == f"{path}, line 1, column {7 + 63 + 1}: is nested more than 64 levels deep"
    )


def test_64_levels_of_nesting_are_read() -> None:
    assert load_yaml("[" * 64 + "]" * 64) is not None
    with pytest.raises(yaml.YAMLError):
        load_yaml("[" * 65 + "]" * 65)


def test_a_merge_key_may_override_what_it_merges() -> None:
    text = "base: &base {currency: USD, monthly: 1}\ncost:\n  <<: *base\n  monthly: 2\n"
    assert load_yaml(text)["cost"] == {"currency": "USD", "monthly": 2}


@pytest.mark.parametrize("kind", FILES)
def test_a_file_over_10_mib_is_refused(stocked: Ledger, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    text = FILES[kind][1]
    path.write_text(text + "#" * (10 * 1024 * 1024 - len(text)) + "\n")
    [problem] = _refused(stocked, kind, path).problems
    assert str(problem) == (
        f"{path}: is 10,485,761 bytes, more than the limit of 10,485,760 for a file read "
        "whole: split it"
    )


@pytest.mark.parametrize("kind", FILES)
def test_a_directory_is_named_as_one(stocked: Ledger, tmp_path: Path, kind: str) -> None:
    [problem] = _refused(stocked, kind, tmp_path).problems
    assert str(problem) == f"{tmp_path}: is a directory: give a file"


def test_a_portfolio_refused_for_its_kill_criteria_names_the_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "portfolio.yaml"
    criterion = "🙂 " * 1_000
    path.write_text(
        "initiatives:\n"
        "- {id: x, name: X, kind: use_case, business_unit: ops,\n"
        f"   kill_criteria: [{criterion!r}]}}\n"
    )
    before = contents(ledger)
    with pytest.raises(ValidationError) as refused:
        ledger.portfolio.apply_file(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: The portfolio was refused; nothing was applied.")
    assert "initiatives[0] (x).kill_criteria[0]: syntax error" in message
    assert len(message) < 600  # the 2,000-character criterion is cut, not echoed
    assert contents(ledger) == before

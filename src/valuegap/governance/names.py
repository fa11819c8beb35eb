"""Check the names a CEL expression uses against the documented context, before it is stored.

The CEL library compiles without declarations, so a misspelt ``initiative.contrls`` would only
fail when a decision is made. This reads the expression's tokens instead: every chain of names
(``initiative.controls.sops_updated``) must exist in the schema, and the variable of a macro
(``metrics.exists(m, m.validated)``) takes the type of the list's items; over a list the
schema does not describe (a literal, or a macro's result) it may be anything.

An expression is also kept within ``MAX_EXPRESSION_CHARACTERS`` and ``MAX_EXPRESSION_DEPTH``
(docs/limits.md): the CEL library's parser panics far beyond them, and no rule needs more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from valuegap.governance.context import Leaf, ListOf, Node, Schema
from valuegap.records import record

_TOKEN = re.compile(
    r"""(?P<string>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[uU]?)
    |(?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
    |(?P<punct>[.()\[\],])
    |(?P<other>\S)""",
    re.VERBOSE | re.DOTALL,
)
_LITERALS = frozenset({"true", "false", "null", "in"})
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_ANYTHING = Leaf("map", "a macro's variable over a list the schema does not describe")
_OPENING, _CLOSING = "([{", ")]}"

MAX_EXPRESSION_CHARACTERS = 4_096
MAX_EXPRESSION_DEPTH = 32  # parentheses, brackets and braces inside one another


@record
class NameProblem:
    line: int
    column: int
    message: str


@record
class _Token:
    kind: str
    text: str
    offset: int


def size_problem(expression: str) -> str | None:
    """Why ``expression`` is too large to compile, if it is."""
    if len(expression) > MAX_EXPRESSION_CHARACTERS:
        return (
            f"is {len(expression):,} characters long; the limit is "
            f"{MAX_EXPRESSION_CHARACTERS:,}: split the rule into several rules"
        )
    depth = 0
    for token in _TOKEN.finditer(expression):
        if token.group() in _OPENING:
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                return (
                    f"nests parentheses and brackets more than {MAX_EXPRESSION_DEPTH} deep "
                    f"(at character {token.start() + 1}): write it more simply"
                )
        elif token.group() in _CLOSING:
            depth -= 1
    return None


def check_names(
    expression: str, context: Mapping[str, Schema]
) -> tuple[list[NameProblem], frozenset[tuple[str, ...]]]:
    """Every name in ``expression`` that ``context`` does not have, with its position; and the
    paths it reads (``("initiative", "controls", "sops_updated")``; a path stops where the
    expression calls a method, indexes or enters a list, so it covers everything read below)."""
    tokens = [
        _Token(m.lastgroup or "other", m.group(), m.start()) for m in _TOKEN.finditer(expression)
    ]
    problems: list[NameProblem] = []
    paths: set[tuple[str, ...]] = set()
    bound: list[tuple[str, Schema, int]] = []  # macro variable, its type, its paren depth
    depth = 0
    skip: set[int] = set()

    def problem(token: _Token, message: str) -> None:
        line = expression.count("\n", 0, token.offset) + 1
        column = token.offset - (expression.rfind("\n", 0, token.offset) + 1) + 1
        problems.append(NameProblem(line, column, message))

    def at(i: int, kind: str, text: str | None = None) -> bool:
        return i < len(tokens) and tokens[i].kind == kind and text in (None, tokens[i].text)

    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
            bound = [b for b in bound if b[2] <= depth]
        if token.kind != "ident" or i in skip or token.text in _LITERALS:
            continue
        if i > 0 and at(i - 1, "punct", "."):
            # a field or method, checked with its chain; a macro on a list the chain does not
            # describe binds its variable here
            variable = at(i + 1, "punct", "(") and at(i + 2, "ident") and at(i + 3, "punct", ",")
            if token.text in _MACROS and variable and i + 2 not in skip:
                bound.append((tokens[i + 2].text, _ANYTHING, depth + 1))
                skip.add(i + 2)
            continue
        if at(i + 1, "punct", "("):
            continue  # a function: size(), has(), timestamp(), ...
        names = {b[0]: b[1] for b in bound}
        schema = names.get(token.text) or context.get(token.text)
        if schema is None:
            problem(token, f"unknown name {token.text!r}; the names are: {', '.join(context)}")
            continue
        path = token.text
        walked = [token.text]
        j = i + 1
        while at(j, "punct", ".") and at(j + 1, "ident"):
            segment = tokens[j + 1]
            if at(j + 2, "punct", "("):
                if segment.text in _MACROS and at(j + 3, "ident") and at(j + 4, "punct", ","):
                    item = schema.item if isinstance(schema, ListOf) else Leaf("string", "key")
                    bound.append((tokens[j + 3].text, item, depth + 1))
                    skip.add(j + 3)
                break
            if isinstance(schema, Leaf) and schema.type == "map":
                break  # a map of whatever was passed: any key may be asked for, with has()
            if isinstance(schema, ListOf):
                problem(
                    segment,
                    f"{path} is a list; ask about its items with "
                    f"{path}.exists(x, x.{segment.text}) or {path}.all(...)",
                )
                break
            if isinstance(schema, Leaf):
                problem(segment, f"{path} is a {schema.type}; it has no field {segment.text!r}")
                break
            if segment.text not in schema.fields:
                problem(
                    segment,
                    f"{path} has no field {segment.text!r}; its fields are: "
                    f"{', '.join(schema.fields)}",
                )
                break
            schema = schema.fields[segment.text]
            path = f"{path}.{segment.text}"
            walked.append(segment.text)
            j += 2
        if token.text not in names:
            paths.add(tuple(walked))
    return problems, frozenset(paths)


# What a decision reads of a map: of each name, the whole value (None) or a part of it.
Plan = dict[str, "Plan | None"]


def plan_of(paths: Iterable[tuple[str, ...]]) -> Plan:
    """The plan that reads ``paths`` (no path may lie below another)."""
    plan: Plan = {}
    for path in paths:
        node = plan
        for name in path[:-1]:
            part = node.setdefault(name, {})
            assert part is not None, "no path lies below another"
            node = part
        node[path[-1]] = None
    return plan


def pruned(value: Any, plan: Plan | None) -> Any:
    """Only what ``plan`` reads of ``value``: converting values to CEL costs more than evaluating
    the rules, so a decision converts only what its rules read. A value on the way that is
    null or not a map is given as it is."""
    if plan is None or not _is_map(value):
        return value
    return {name: pruned(value.get(name), part) for name, part in plan.items()}


def _is_map(value: object) -> bool:
    # A dict first: a context's maps are, and an ABC's isinstance costs ten times more.
    return type(value) is dict or isinstance(value, Mapping)


def sample(schema: Schema) -> object:
    """A value of every documented name, none of them null, to try an expression on."""
    if isinstance(schema, Node):
        return {name: sample(child) for name, child in schema.fields.items()}
    if isinstance(schema, ListOf):
        return [sample(schema.item)]
    return _SAMPLES[schema.type]


_SAMPLES: dict[str, object] = {
    "string": "x",
    "int": 1,
    "double": 1.0,
    "bool": True,
    "list(string)": ["x"],
    "map": {},
    "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
}


def sample_context(context: Mapping[str, Schema]) -> dict[str, object]:
    return {name: sample(schema) for name, schema in context.items()}

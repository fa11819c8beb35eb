"""Policies: rules in CEL, in three layers, and the decisions they make.

A rule says what must hold (``expr``) and what happens when it does not (``effect``: deny,
require_approval or warn). Rules only restrict: a lower layer (business unit, initiative) adds
rules and can never remove, weaken or shadow an enterprise rule. A decision evaluates every rule
that applies and is as strict as the strictest rule that failed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import ConfigDict, Field, SkipValidation, computed_field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from valuegap.errors import Problem, ValidationError
from valuegap.governance import context as ctx
from valuegap.governance.names import (
    Plan,
    check_names,
    plan_of,
    pruned,
    sample_context,
    size_problem,
)
from valuegap.model.vocabulary import STAGES
from valuegap.records import record
from valuegap.results import to_data
from valuegap.words import counted

if TYPE_CHECKING:
    import cel

LAYERS = ("enterprise", "business_unit", "initiative")
EFFECTS = ("deny", "require_approval", "warn")
Outcome = Literal["allow", "deny", "require_approval"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_RULE_KEYS = ("id", "when", "expr", "effect", "message")


class Program(Protocol):
    """A compiled CEL condition (what ``cel.compile`` returns)."""

    def execute(self, context: cel.Context | dict[str, Any]) -> object: ...


# Results are pydantic dataclasses here (elsewhere plain ones) where their JSON form is not
# simply their fields: a rule's is the policy file's (its compiled program left out), a
# decision's names its parts as the CLI and the API have always shown them.
# defer_build: their validators and serialisers are built when first used, not on import.
_PROGRAMS = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
_JSON_NAMES = ConfigDict(serialize_by_alias=True, defer_build=True)


@pydantic_dataclass(frozen=True, config=_PROGRAMS)
class Rule:
    """One rule as its policy file writes it (its JSON form), compiled."""

    id: str
    subject: Annotated[Literal["transition", "action"], Field(exclude=True)]
    # "*", "mvp->production", "*->retired"; or "*" or an action name
    pattern: Annotated[str, Field(exclude=True)]
    expr: str
    effect: str
    message: str
    program: Annotated[SkipValidation[Program | None], Field(exclude=True)] = field(
        compare=False, repr=False
    )
    paths: Annotated[frozenset[tuple[str, ...]], Field(exclude=True)] = field(
        compare=False, repr=False, default=frozenset()
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def when(self) -> dict[str, str]:
        """``{transition: FROM->TO}`` or ``{action: NAME}``, as in the policy file."""
        return {self.subject: self.pattern}

    def applies_to(self, subject: str, name: str) -> bool:
        if subject != self.subject:
            return False
        if self.pattern == "*":
            return True
        if subject == "action":
            return self.pattern == name
        source, target = self.pattern.split("->")
        start, end = name.split("->")
        return source in ("*", start) and target in ("*", end)


@record
class Policy:
    """One layer's rules (for one business unit or initiative below the enterprise)."""

    layer: str
    scope: str | None
    rules: tuple[Rule, ...]
    version: int = 0

    @property
    def key(self) -> str:
        return self.layer if self.scope is None else f"{self.layer}/{self.scope}"

    def rules_json(self) -> str:
        """The rules as stored: their JSON form, which is the policy file's."""
        return json.dumps(to_data(self.rules))


@record
class RuleResult:
    """How one rule came out in one decision."""

    id: str
    policy: str  # the layer (and scope) it belongs to, e.g. business_unit/risk
    version: int
    effect: str
    message: str
    held: bool
    error: str | None = None


@pydantic_dataclass(frozen=True, config=_JSON_NAMES)
class Decision:
    """What the rules decided. Its JSON form: ``decision`` (the outcome), ``rules`` (the ids of
    the rules that decided), ``details`` (those rules), ``warnings``, ``ignored``,
    ``policy_versions`` and ``approval_rules``."""

    outcome: Annotated[Outcome, Field(serialization_alias="decision")]
    # the rules that decided: failed ones, or for allow, those that held
    rules: Annotated[list[RuleResult], Field(serialization_alias="details")]
    warnings: list[RuleResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # lower rules shadowed by a higher id
    policy_versions: dict[str, int] = field(default_factory=dict)
    # for a deny, the require_approval rules that failed too: the approvals the move would
    # also need once the denying rules hold (for require_approval, they are ``rules``)
    approval_rules: list[RuleResult] = field(default_factory=list)

    @computed_field(alias="rules")  # type: ignore[prop-decorator]
    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]


# Reading a policy file.


def parse_policy(text: str, source: str, *, enterprise_ids: Sequence[str] = ()) -> Policy:
    """Validate a policy file whole; ``ValidationError`` names every bad rule and where it is.
    ``enterprise_ids``: the enterprise rules a lower layer may not reuse."""
    import yaml  # here, as where every YAML file is read: most commands read none

    from valuegap.yamlio import load_yaml, yaml_problem

    try:
        data, lines = load_yaml(text), _rule_lines(text)
    except yaml.YAMLError as exc:
        raise ValidationError(
            f"{source} is not valid YAML; no rule was loaded.", [yaml_problem(exc, source)]
        ) from exc
    return _policy_from_data(data, source, lines, enterprise_ids)


def _policy_from_data(
    data: Any, source: str, lines: Sequence[int] = (), enterprise_ids: Sequence[str] = ()
) -> Policy:
    """``parse_policy`` after the YAML was read; ``lines`` are the rules' lines in the file."""
    summary = f"{source} was refused; no rule was loaded."
    if not isinstance(data, dict):
        raise ValidationError(
            summary, [Problem(source, "must be a mapping with layer, scope and rules", data)]
        )
    problems = [
        Problem(f"{source}: {key}", "is not a key of a policy file (layer, scope, rules)")
        for key in data
        if key not in ("layer", "scope", "rules")
    ]
    layer, scope = data.get("layer"), data.get("scope")
    if layer not in LAYERS:
        problems.append(Problem(f"{source}: layer", f"must be one of {', '.join(LAYERS)}", layer))
    elif layer == "enterprise" and scope is not None:
        problems.append(Problem(f"{source}: scope", "must be null for the enterprise", scope))
    elif layer != "enterprise" and not (isinstance(scope, str) and _SLUG.match(scope)):
        problems.append(
            Problem(
                f"{source}: scope",
                f"must name the {layer.replace('_', ' ')} these rules are for",
                scope,
            )
        )
    raw = data.get("rules")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.append(Problem(f"{source}: rules", "must be a list of rules", raw))
        raw = []
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(raw):
        line = lines[n] if n < len(lines) else None
        where = f"{source}, line {line}, rules[{n}]" if line else f"{source}, rules[{n}]"
        rule, found = _rule(item, where)
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            rule_id = item["id"]
            if rule_id in seen:
                found.append(
                    Problem(f"{where} ({rule_id})", f"repeats the id of rules[{seen[rule_id]}]")
                )
            elif layer != "enterprise" and rule_id in enterprise_ids:
                found.append(
                    Problem(
                        f"{where} ({rule_id})",
                        "has the id of an enterprise rule; a lower layer may add rules but can "
                        "never replace or weaken an enterprise rule: give it an id of its own",
                    )
                )
            seen.setdefault(rule_id, n)
        problems.extend(found)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise ValidationError(f"{summary} {counted(len(problems), 'problem')}:", problems)
    return Policy(str(layer), scope, tuple(rules))


def _rule(item: Any, where: str) -> tuple[Rule | None, list[Problem]]:
    if not isinstance(item, dict):
        return None, [Problem(where, "must be a mapping with id, when, expr, effect, message")]
    rule_id = item.get("id")
    where = f"{where} ({rule_id})" if isinstance(rule_id, str) else where
    problems = [
        Problem(f"{where}.{key}", f"is not a key of a rule ({', '.join(_RULE_KEYS)})")
        for key in item
        if key not in _RULE_KEYS
    ]
    problems += [
        Problem(f"{where}.{key}", "is required but missing")
        for key in _RULE_KEYS
        if key not in item
    ]
    if not (isinstance(rule_id, str) and _SLUG.match(rule_id)):
        problems.append(
            Problem(
                f"{where}.id",
                "must be lower-case letters, digits, '-', '_' "
                "or '.', starting with a letter or digit",
                rule_id,
            )
        )
    effect = item.get("effect")
    if "effect" in item and effect not in EFFECTS:
        hint = (
            " (rules only restrict: nothing below can allow what a rule above denies)"
            if effect == "allow"
            else ""
        )
        problems.append(
            Problem(
                f"{where}.effect",
                f"is not an effect; the effects are {', '.join(EFFECTS)}{hint}",
                effect,
            )
        )
    message = item.get("message")
    if "message" in item and not (isinstance(message, str) and message.strip()):
        problems.append(Problem(f"{where}.message", "must say, for a person, what to do"))
    subject, pattern = _when(item.get("when"), f"{where}.when", problems)
    expr = item.get("expr")
    program: Program | None = None
    paths = frozenset[tuple[str, ...]]()
    if "expr" in item:
        if not isinstance(expr, str) or not expr.strip():
            problems.append(Problem(f"{where}.expr", "must be a CEL expression", expr))
        else:  # with an unreadable `when`, still check what can be checked
            names = {"action": ctx.for_actions(), "transition": ctx.for_transitions()}.get(
                subject or "", ctx.CONTEXT
            )
            program, paths = compile_condition(expr, names, f"{where}.expr", problems)
    if problems or program is None or subject is None or pattern is None:
        return None, problems
    rule = Rule(
        str(rule_id), subject, pattern, str(expr), str(effect), str(message).strip(), program, paths
    )
    return rule, []


def _when(
    when: Any, where: str, problems: list[Problem]
) -> tuple[Literal["transition", "action"] | None, str | None]:
    if when is None:
        return None, None
    if (
        not isinstance(when, dict)
        or len(when) != 1
        or next(iter(when)) not in ("transition", "action")
    ):
        problems.append(
            Problem(
                where, 'must be {transition: FROM->TO} or {action: NAME}, either may be "*"', when
            )
        )
        return None, None
    ((subject, pattern),) = when.items()
    pattern = str(pattern).replace(" ", "").replace("→", "->")
    if subject == "action":
        if pattern != "*" and not _SLUG.match(pattern):
            problems.append(Problem(f"{where}.action", 'must be "*" or an action name', pattern))
            return None, None
        return "action", pattern
    if pattern == "*":
        return "transition", pattern
    stages = pattern.split("->")
    if len(stages) != 2 or any(s != "*" and s not in STAGES for s in stages):
        problems.append(
            Problem(
                f"{where}.transition",
                f'must be "*" or FROM->TO, each a stage ({", ".join(STAGES)}) or "*"',
                pattern,
            )
        )
        return None, None
    return "transition", "->".join(stages)


def compile_condition(
    expr: str, names: Mapping[str, ctx.Schema], where: str, problems: list[Problem]
) -> tuple[Program | None, frozenset[tuple[str, ...]]]:
    """Compile a condition over ``names``; on a syntax error, an unknown name, a type error or
    a result that is not true or false, add a problem and return no program. Also returns the
    paths the condition reads (``names.check_names``)."""
    import cel

    if (too_large := size_problem(expr)) is not None:
        problems.append(Problem(where, too_large, expr))
        return None, frozenset()
    try:
        program = cel.compile(expr)
    except ValueError as exc:
        problems.append(Problem(where, _syntax_error(str(exc)), expr))
        return None, frozenset()
    found, paths = check_names(expr, names)
    for p in found:
        problems.append(Problem(f"{where} at {p.line}:{p.column}", p.message, expr))
    if found:
        return None, frozenset()
    try:
        result = program.execute(sample_context(names))
    except TypeError as exc:
        # the library's message is a paragraph; its first sentence says what is wrong
        problems.append(Problem(where, f"type error: {_first_line(exc).split('. ')[0]}", expr))
        return None, frozenset()
    except ArithmeticError as exc:
        if not paths:  # it reads nothing: it fails whatever the ledger holds
            problems.append(Problem(where, f"cannot be evaluated: {_first_line(exc)}", expr))
            return None, frozenset()
        result = True  # a zero in the sample values: at decision time the rule fails closed
    except (KeyError, ValueError, RuntimeError):
        result = True  # a has()-guarded key, or a value the sample lacks: fine at load time
    if not isinstance(result, bool):
        problems.append(
            Problem(
                where,
                "must be true or false (a condition that must hold), "
                f"not a {type(result).__name__}",
                expr,
            )
        )
        return None, frozenset()
    return program, paths


def _syntax_error(message: str) -> str:
    """'... ERROR: <input>:1:5: Syntax error: mismatched input ...' -> 'syntax error at 1:5: ...'"""
    found = re.search(r"<input>:(\d+):(\d+): (?:Syntax error: )?(.*)", message)
    if not found:
        return f"is not valid CEL: {_first_line(message)}"
    line, column, what = found.groups()
    return f"syntax error at {line}:{column} of the expression: {what.split(' expecting ')[0]}"


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0]


def _rule_lines(text: str) -> list[int]:
    """The line of each item of ``rules``, for error messages."""
    import yaml

    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_policy(layer: str, scope: str | None, version: int, rules_json: str) -> Policy:
    """A stored policy, compiled again. It was checked when it was applied; it is not checked
    again, so that a rule a later valuegap would refuse still loads (and, if it cannot be
    evaluated any more, fails closed) rather than stopping every decision."""
    import cel

    key = (layer, scope, version, rules_json)
    if key not in _COMPILED:
        rules = []
        for item in json.loads(rules_json):
            ((subject, pattern),) = item["when"].items()
            try:
                program = cel.compile(item["expr"])
            except ValueError:
                program = None
            _, paths = check_names(item["expr"], ctx.CONTEXT)
            # an effect this version does not know fails closed
            effect = item["effect"] if item["effect"] in EFFECTS else "deny"
            rules.append(Rule(item["id"], subject, pattern, item["expr"], effect,
                              item["message"], program, paths))  # fmt: skip
        _COMPILED[key] = Policy(layer, scope or None, tuple(rules), version)
    return _COMPILED[key]


# A stored version never changes, so it is compiled once per process.
_COMPILED: dict[tuple[str, str | None, int, str], Policy] = {}


# Deciding.


@record
class RuleSet:
    """The rules that apply to one initiative's transition or action, highest layer first."""

    rules: tuple[tuple[Policy, Rule], ...]
    ignored: tuple[str, ...]  # lower rules shadowed by a higher rule with the same id
    plan: Plan = field(compare=False)  # what the rules read (``names.pruned`` reads it)
    reads: tuple[frozenset[str], ...] = field(compare=False)  # each rule's top-level names
    versions: dict[str, int] = field(compare=False)  # of the policies the rules belong to

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.plan)


def applicable(policies: Sequence[Policy], initiative: Any, subject: str, name: str) -> RuleSet:
    """The rules for ``initiative`` (its business unit, its id) and this transition or action.
    A stored policy version never changes, so the answer is kept for the same policies."""
    key = (tuple(map(id, policies)), initiative.id, initiative.business_unit, subject, name)
    if key not in _APPLICABLE:
        if len(_APPLICABLE) >= 10_000:  # action names come from callers: keep memory bounded
            _APPLICABLE.clear()
        _APPLICABLE[key] = _applicable(policies, initiative, subject, name)
    return _APPLICABLE[key]


_APPLICABLE: dict[tuple[Any, ...], RuleSet] = {}


def _applicable(policies: Sequence[Policy], initiative: Any, subject: str, name: str) -> RuleSet:
    mine = [
        p for p in policies
        if p.layer == "enterprise"
        or (p.layer == "business_unit" and p.scope == initiative.business_unit)
        or (p.layer == "initiative" and p.scope == initiative.id)
    ]  # fmt: skip
    mine.sort(key=lambda p: LAYERS.index(p.layer))
    taken: set[str] = set()
    found: list[tuple[Policy, Rule]] = []
    ignored: list[str] = []
    for policy in mine:
        for rule in policy.rules:
            if not rule.applies_to(subject, name):
                continue
            if rule.id in taken:
                ignored.append(f"{policy.key}:{rule.id}")
                continue
            taken.add(rule.id)
            found.append((policy, rule))
    paths: list[tuple[str, ...]] = []
    for path in sorted(frozenset().union(*(r.paths for _, r in found)), key=len):
        if not any(path[: len(kept)] == kept for kept in paths):
            paths.append(path)
    reads = tuple(frozenset(path[0] for path in rule.paths) for _, rule in found)
    versions = {policy.key: policy.version for policy, _ in found}
    return RuleSet(tuple(found), tuple(ignored), plan_of(paths), reads, versions)


def decide(
    rules: RuleSet,
    context: Mapping[str, Any] | Callable[[frozenset[str]], Mapping[str, Any]],
) -> Decision:
    """Evaluate ``rules``; ``context`` may be a function of the top-level names the rules use,
    so that costly parts are built only when a rule needs them. A value of ``context`` is not
    changed once given: the same object at the thread's next decision is the same value."""
    if callable(context):
        context = context(rules.names)
    results = _Converted.of(rules).results(context)
    failed = {result.effect for result in results if not result.held}
    outcome: Outcome = (
        "deny" if "deny" in failed else "require_approval" if "require_approval" in failed
        else "allow"
    )  # fmt: skip
    deciding = [
        r
        for r in results
        if (r.held and outcome == "allow" and r.effect != "warn")
        or (not r.held and r.effect == outcome)
    ]
    warnings = [r for r in results if not r.held and r.effect == "warn"]
    approvals = [
        r for r in results if not r.held and r.effect == "require_approval" and outcome == "deny"
    ]
    return Decision(
        outcome, deciding, warnings, list(rules.ignored), dict(rules.versions), approvals
    )


class _Converted:
    """One thread's CEL context for one rule set, kept between its decisions, and how each
    rule came out on it.

    Converting a value to CEL costs more than evaluating the rules: a decision converts again
    only the names whose values changed (an agent's action changes each time, the agent and
    its initiative seldom), and evaluates again only the rules that read one of them. A value
    is unchanged if it is the same object as before, or if the ``repr`` of what the rules read
    of it is the same: ``repr`` tells 1, 1.0 and True apart and shows the whole of the plain
    data a context holds (dicts, lists, text, numbers, times)."""

    KEPT = 64  # rule sets a thread keeps contexts for; more start again

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules
        self._context: cel.Context | None = None
        self._given: dict[str, Any] = {}  # the values last given, by name
        self._reprs: dict[str, str] = {}  # what the rules read of them, as repr
        self._results: list[RuleResult] = []

    @classmethod
    def of(cls, rules: RuleSet) -> _Converted:
        """This thread's, for ``rules`` (``applicable`` gives the same rule set for the same
        stored policy versions, which never change)."""
        kept = _this_thread.by_rules
        found = kept.get(id(rules))
        if found is None or found._rules is not rules:
            if len(kept) >= cls.KEPT:
                kept.clear()
            found = kept[id(rules)] = cls(rules)
        return found

    def results(self, context: Mapping[str, Any]) -> list[RuleResult]:
        """How each rule comes out on ``context``."""
        given = {name: context.get(name) for name in self._rules.plan}
        try:
            converted, changed = self._update(given)
            if changed is None:
                self._results = [
                    _result(policy, rule, *evaluate_condition(rule.program, converted), context)
                    for policy, rule in self._rules.rules
                ]
            else:
                self._again(converted, changed, context)
        except BaseException:
            self._context = None  # the next decision starts again
            raise
        return list(self._results)

    def _again(
        self, converted: cel.Context, changed: frozenset[str], context: Mapping[str, Any]
    ) -> None:
        """Evaluate again the rules that read a name in ``changed``; fill the messages that
        show values again (they may show any value of ``context``)."""
        for index, (policy, rule) in enumerate(self._rules.rules):
            before = self._results[index]
            held, error = before.held, before.error
            if self._rules.reads[index] & changed:
                held, error = evaluate_condition(rule.program, converted)
            if (held, error) != (before.held, before.error) or "{" in rule.message:
                self._results[index] = _result(policy, rule, held, error, context)

    def _update(self, given: dict[str, Any]) -> tuple[cel.Context, frozenset[str] | None]:
        """The context, made to hold what the rules read of ``given``, and the names
        converted again (None: all, in a new context). A value CEL cannot take leaves no
        context, rather than one half converted."""
        import cel

        plan = self._rules.plan
        context, self._context = self._context, None
        if context is None:
            values = {name: pruned(value, plan[name]) for name, value in given.items()}
            context, changed = cel.Context(values), None
            self._reprs = {name: repr(value) for name, value in values.items()}
        else:
            changed = set()
            for name, value in given.items():
                if value is self._given[name]:
                    continue
                part = pruned(value, plan[name])
                text = repr(part)
                if text != self._reprs[name]:
                    context.add_variable(name, part)
                    self._reprs[name] = text
                    changed.add(name)
        self._context, self._given = context, given
        return context, None if changed is None else frozenset(changed)


class _ThisThread(threading.local):
    def __init__(self) -> None:
        self.by_rules: dict[int, _Converted] = {}


_this_thread = _ThisThread()


def evaluate_condition(
    program: Program | None, context: cel.Context | dict[str, Any]
) -> tuple[bool, str | None]:
    """Whether a compiled condition holds; one that cannot be evaluated does not hold."""
    if program is None:
        return False, "could not be evaluated: it is no longer valid CEL"
    try:
        result = program.execute(context)
    except KeyError as exc:
        return False, f"could not be evaluated: {exc} is not known here (guard it with has())"
    except (TypeError, ValueError, RuntimeError) as exc:
        return False, f"could not be evaluated: {_first_line(exc)} (is a value still null?)"
    except ArithmeticError as exc:  # a division by zero, an overflow: the rule fails closed
        return False, f"could not be evaluated: {_first_line(exc)}"
    if not isinstance(result, bool):
        return False, f"gave {result!r}, not true or false"
    return result, None


def _result(
    policy: Policy, rule: Rule, held: bool, error: str | None, context: Mapping[str, Any]
) -> RuleResult:
    message = filled(rule.message, context)
    return RuleResult(rule.id, policy.key, policy.version, rule.effect, message, held, error)


_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)+)\}")


def filled(message: str, context: Mapping[str, Any]) -> str:
    """``message`` with each ``{a.b}`` that names a context value replaced by that value (a
    name the context does not have stays as written)."""
    if "{" not in message:  # most messages name no value: a decision skips the search
        return message

    def value(found: re.Match[str]) -> str:
        node: Any = context
        for name in found.group(1).split("."):
            if not isinstance(node, Mapping) or name not in node:
                return found.group(0)
            node = node[name]
        return "null" if node is None else str(node)

    return _PLACEHOLDER.sub(value, message)

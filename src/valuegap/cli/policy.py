"""``valuegap policy``: the CEL policies in force, by layer, and their versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.words import counted

if TYPE_CHECKING:
    from valuegap.governance.policy import Policy
    from valuegap.ledger import Ledger

app = group("policy")

Layer = Annotated[
    str, typer.Argument(metavar="LAYER", help="enterprise | business_unit | initiative")
]
Scope = Annotated[
    str | None, typer.Argument(metavar="[SCOPE]", help="The business unit or initiative id.")
]


@command(app, "apply")
def apply(file: Annotated[Path, typer.Argument(metavar="POLICY.yaml")]) -> None:
    """Validate a policy file and make it the new version of its layer and scope (refused
    whole on any problem)."""
    with open_ledger() as ledger:
        result = ledger.governance.apply_policy_file(file)
    name = result.layer + (f" {result.scope}" if result.scope else "")
    if result.changed:
        typer.echo(
            f"Policy {name} version {result.version} in force ({counted(result.rules, 'rule')})."
        )
    else:
        typer.echo(f"Policy {name} is unchanged (version {result.version} is in force).")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The policies in force: the newest version of each layer and scope."""
    with open_ledger(read_only=True) as ledger:
        versions = ledger.governance.policies_in_force()
    columns = ["layer", "scope", "version", "rules", "applied_at", "applied_by"]
    if fmt is not OutputFormat.table:
        render.records(versions, fmt, title="Policies in force", columns=columns)
        return
    counted = [{**vars(v), "rules": len(v.rules)} for v in versions]  # a table counts the rules
    render.records(counted, fmt, title="Policies in force", columns=columns)


@command(app, "show")
def show(layer: Layer, scope: Scope = None, fmt: FormatOption = OutputFormat.table) -> None:
    """The rules of one policy in force, and its earlier versions."""
    with open_ledger(read_only=True) as ledger:
        policy = _in_force(ledger, layer, scope)
        versions = ledger.governance.policy_versions(layer, scope)
    # the rules with "when" as a person reads it, e.g. "transition poc->mvp"
    rows = [
        {
            "id": r.id,
            "when": f"{r.subject} {r.pattern}",
            "expr": r.expr,
            "effect": r.effect,
            "message": r.message,
        }
        for r in policy.rules
    ]
    if fmt is not OutputFormat.table:
        render.records(rows, fmt)
        return
    render.records(
        rows,
        fmt,
        columns=["id", "when", "effect", "expr", "message"],
        title=f"Policy {policy.key}, version {policy.version}",
    )
    render.records(
        versions, fmt, columns=["version", "source", "applied_at", "applied_by"], title="Versions"
    )


@command(app, "export")
def export(layer: Layer, scope: Scope = None) -> None:
    """The policy in force as a policy file, to edit and apply again."""
    from valuegap.yamlio import dump_yaml

    with open_ledger(read_only=True) as ledger:
        policy = _in_force(ledger, layer, scope)
    from valuegap.results import to_data

    # a rule's JSON form is the policy file's
    policy_file = {"layer": policy.layer, "scope": policy.scope, "rules": to_data(policy.rules)}
    typer.echo(dump_yaml(policy_file), nl=False)


def _in_force(ledger: Ledger, layer: str, scope: str | None) -> Policy:
    if layer in ("business_unit", "initiative") and scope is None:
        raise typer.BadParameter(f"give the {layer.replace('_', ' ')} too: {layer} SCOPE",
                                 param_hint="SCOPE")  # fmt: skip
    return ledger.governance.policy(layer, scope)

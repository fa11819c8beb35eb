"""``valuegap policy``: the CEL policies in force, by layer, and their versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger

app = typer.Typer(help="Policies: stage gates and agent guardrails as CEL rules, in layers.")

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
    name = result["layer"] + (f" {result['scope']}" if result["scope"] else "")
    if result["changed"]:
        typer.echo(f"Policy {name} version {result['version']} in force ({result['rules']} rules).")
    else:
        typer.echo(f"Policy {name} is unchanged (version {result['version']} is in force).")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The policies in force: the newest version of each layer and scope."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.governance.policies_in_force()
    if fmt is OutputFormat.table:
        for row in rows:
            row["rules"] = len(row["rules"])
    columns = ["layer", "scope", "version", "rules", "applied_at", "applied_by"]
    render.records(rows, fmt, title="Policies in force", columns=columns)


@command(app, "show")
def show(layer: Layer, scope: Scope = None, fmt: FormatOption = OutputFormat.table) -> None:
    """The rules of one policy in force, and its earlier versions."""
    with open_ledger(read_only=True) as ledger:
        policy = _in_force(ledger, layer, scope)
        versions = ledger.governance.policy_versions(layer, scope)
    rows = [{**r.as_dict(), "when": _when(r.as_dict()["when"])} for r in policy.rules]
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
        [{k: v[k] for k in ("version", "source", "applied_at", "applied_by")} for v in versions],
        fmt,
        title="Versions",
    )


@command(app, "export")
def export(layer: Layer, scope: Scope = None) -> None:
    """The policy in force as a policy file, to edit and apply again."""
    from valuegap.yamlio import dump_yaml

    with open_ledger(read_only=True) as ledger:
        policy = _in_force(ledger, layer, scope)
    rules = [r.as_dict() for r in policy.rules]
    typer.echo(dump_yaml({"layer": policy.layer, "scope": policy.scope, "rules": rules}), nl=False)


def _in_force(ledger: Any, layer: str, scope: str | None) -> Any:
    if layer != "enterprise" and scope is None:
        raise typer.BadParameter(f"give the {layer.replace('_', ' ')} too: {layer} SCOPE",
                                 param_hint="SCOPE")  # fmt: skip
    return ledger.governance.policy(layer, scope)


def _when(when: dict[str, str]) -> str:
    ((subject, pattern),) = when.items()
    return f"{subject} {pattern}"

"""``valuegap initiative``: add, list, show, advance and retire initiatives."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import group
from valuegap.model.vocabulary import KINDS, RISK_TIERS, STAGES

app = group("initiative")

LIST_COLUMNS = ["id", "name", "business_unit", "stage", "risk_tier", "owner", "metrics"]


@command(app, "add")
def add(
    initiative_id: Annotated[str, typer.Argument(metavar="ID", help="A slug, e.g. loc-qa.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")],
    unit: Annotated[str, typer.Option("--business-unit", help="The business unit that owns it.")],
    kind: Annotated[str, typer.Option(help=" | ".join(KINDS))] = "use_case",
    owner: Annotated[str | None, typer.Option(help="The business owner.")] = None,
    sponsor: Annotated[str | None, typer.Option()] = None,
    risk_tier: Annotated[str | None, typer.Option(help=" | ".join(RISK_TIERS))] = None,
    hypothesis: Annotated[str | None, typer.Option()] = None,
    kill_criterion: Annotated[
        list[str] | None,
        typer.Option("--kill-criterion", help="A policy expression; repeat for more."),
    ] = None,
) -> None:
    """Propose a new initiative (it starts at stage 'proposed')."""
    spec = {
        "id": initiative_id,
        "name": name,
        "kind": kind,
        "business_unit": unit,
        "owner": owner,
        "sponsor": sponsor,
        "risk_tier": risk_tier,
        "hypothesis": hypothesis,
        "kill_criteria": kill_criterion or [],
    }
    with open_ledger() as ledger:
        created = ledger.portfolio.add_initiative(spec)
    typer.echo(f"Proposed initiative {created.id} ({created.name}).")


@command(app, "list")
def list_(
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    unit: Annotated[
        str | None, typer.Option("--business-unit", help="Only this business unit.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List initiatives. JSON gives every portfolio-file field plus the stage."""
    with open_ledger(read_only=True) as ledger:
        initiatives = ledger.portfolio.initiatives(stage=stage, unit=unit)
    rows = [i.model_dump(mode="json") for i in initiatives]
    if fmt is OutputFormat.table:
        for row in rows:
            row["metrics"] = len(row["metrics"])
    render.records(rows, fmt, columns=LIST_COLUMNS, title="Initiatives")


@command(app, "show")
def show(
    initiative_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Everything about one initiative: fields, metrics, controls, review date, stage history."""
    with open_ledger(read_only=True) as ledger:
        detail = ledger.governance.initiative_detail(initiative_id)
    doc = detail.document()
    if fmt is OutputFormat.table:
        _readable(doc)
    render.document(doc, fmt, title=f"Initiative {initiative_id}")


def _readable(doc: dict[str, Any]) -> None:
    """Shorten nested fields for a terminal; JSON and CSV keep them whole."""
    if case := doc["business_case"]:
        ramp = case["adoption_ramp"]
        doc["business_case"] = (
            f"{case['monthly_investment']} {case['currency']}/month invested, "
            f"{case['monthly_value_at_full_adoption']} {case['currency']}/month at full adoption; "
            f"ramp to {ramp['ceiling']:.0%} with midpoint month {ramp['midpoint_month']:g}"
        )
    doc["metrics"] = [
        {
            "id": m["id"],
            "name": m["name"],
            "direction": m["direction"],
            "baseline": m["baseline"] and f"{m['baseline']['value']} ({m['baseline']['period']})",
            "target": m["target"],
            "value/unit": m["value_per_unit"] and f"{m['value_per_unit']} {m['currency']}",
            "method": m["method"],
            "agreed": m["agreed_at"] and f"{m['agreed_by']}, {m['agreed_at']}",
        }
        for m in doc["metrics"]
    ]
    for move in doc["stage_history"]:
        move.pop("rules")


@command(app, "advance")
def advance(
    initiative_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help=" | ".join(STAGES[:-1]))],
) -> None:
    """Move an initiative to its next stage if its gate allows (a denied move exits 1 and
    lists the failing rules); a gate that asks for approval records a pending request."""
    with open_ledger() as ledger:
        move = ledger.governance.gates.advance(initiative_id, to)
    _report(move)


@command(app, "retire")
def retire(
    initiative_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why it stops.")],
    learnings: Annotated[str, typer.Option(help="What the organisation learned.")],
) -> None:
    """Retire an initiative from any stage (a reason and the learnings are required)."""
    with open_ledger() as ledger:
        move = ledger.governance.gates.retire(initiative_id, reason=reason, learnings=learnings)
    _report(move)


def _report(move: Any) -> None:
    """What a move did: moved, or waits for an approval (a refused move raised already)."""
    for warning in move.decision.warnings:
        typer.echo(f"Warning ({warning.id}): {warning.message}", err=True)
    if move.approval_id is None:
        typer.echo(f"{move.initiative}: {move.from_stage} -> {move.to_stage}.")
        return
    typer.echo(f"{move.initiative} waits for approval {move.approval_id} to move to "
               f"{move.to_stage}:")  # fmt: skip
    for rule in move.decision.rules:
        typer.echo(f"  - {rule.id}: {rule.message}")
    typer.echo(f"A governance user decides with `valuegap approval approve {move.approval_id}` "
               f"or `valuegap approval reject {move.approval_id} --note TEXT`.")  # fmt: skip

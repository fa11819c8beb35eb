"""``valuegap scenario``: an initiative's ROI under changes of volume, tokens, price, model or
ramp; saved by name, listed and compared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuegap.cli import render
from valuegap.cli.common import FormatOption, OutputFormat, command, open_ledger
from valuegap.cli.program import Commands, group

if TYPE_CHECKING:
    from valuegap.forecast.scenario import ScenarioChanges


class ScenarioGroup(Commands):
    """``scenario ID [options]`` runs ``scenario show``; ``save``, ``list``, ``compare`` are
    commands of their own."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = group("scenario", cls=ScenarioGroup)

TokenPrice = Annotated[str | None, typer.Option(help="A change of every token price, e.g. -50%.")]
Model = Annotated[str | None, typer.Option(help="Price the same tokens as this model.")]
Volume = Annotated[
    str | None, typer.Option(help="Requests per day, week or month, e.g. 100000/day.")
]
TokensPerRequest = Annotated[
    str | None, typer.Option(help="A change of the tokens of each request, e.g. +20%.")
]
Ramp = Annotated[
    str | None, typer.Option(help="slower or faster: the adoption ramp stretched by 1.5.")
]


def _changes(
    token_price: str | None,
    model: str | None,
    volume: str | None,
    tokens_per_request: str | None,
    ramp: str | None,
) -> ScenarioChanges:
    from valuegap.forecast.scenario import ScenarioChanges

    return ScenarioChanges.parse(
        token_price=token_price,
        model=model,
        volume=volume,
        tokens_per_request=tokens_per_request,
        ramp=ramp,
    )


@command(app, "show")
def show(
    initiative: Annotated[str, typer.Argument(metavar="ID")],
    token_price: TokenPrice = None,
    model: Model = None,
    volume: Volume = None,
    tokens_per_request: TokensPerRequest = None,
    ramp: Ramp = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """An initiative's monthly cost, ROI, payback and J-curve under the changes, beside its
    baseline (also `valuegap scenario ID [options]`)."""
    changes = _changes(token_price, model, volume, tokens_per_request, ramp)
    with open_ledger(read_only=True) as ledger:
        found = ledger.outcomes.scenarios.scenario(initiative, changes)
    render.document(found, fmt, title=f"Scenario: {initiative}, {found.changes}")


@command(app, "save")
def save(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    initiative: Annotated[str, typer.Argument(metavar="ID")],
    token_price: TokenPrice = None,
    model: Model = None,
    volume: Volume = None,
    tokens_per_request: TokensPerRequest = None,
    ramp: Ramp = None,
) -> None:
    """Save a scenario of an initiative by name (replacing one of that name)."""
    changes = _changes(token_price, model, volume, tokens_per_request, ramp)
    with open_ledger() as ledger:
        found = ledger.outcomes.scenarios.save_scenario(name, initiative, changes)
    typer.echo(f"Scenario {name} saved: {initiative}, {found.changes}.")


@command(app, "list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The saved scenarios."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.outcomes.scenarios.scenarios()
    render.records(rows, fmt, title="Saved scenarios")


@command(app, "compare")
def compare(
    names: Annotated[list[str], typer.Argument(metavar="NAME...")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Saved scenarios side by side, each after its initiative's baseline: monthly inference
    and fixed cost, value, ROI and payback month."""
    with open_ledger(read_only=True) as ledger:
        rows = ledger.outcomes.scenarios.compare_scenarios(names)
    render.records(rows, fmt, title="Scenarios compared")

"""``valuegap control``: attest production-readiness controls."""

from __future__ import annotations

from typing import Annotated

import typer

from valuegap.cli.common import command, open_ledger
from valuegap.cli.program import group
from valuegap.model.vocabulary import CONTROLS

app = group("control")


@command(app, "attest")
def attest(
    initiative_id: Annotated[str, typer.Argument(metavar="INITIATIVE")],
    control: Annotated[str, typer.Argument(metavar="CONTROL", help=" | ".join(CONTROLS))],
    evidence: Annotated[str, typer.Option(help="Where the proof is (a link, a document).")],
) -> None:
    """Attest that a readiness control is in place for an initiative."""
    with open_ledger() as ledger:
        ledger.portfolio.attest_control(initiative_id, control, evidence)
    typer.echo(f"{initiative_id}: {control} attested.")

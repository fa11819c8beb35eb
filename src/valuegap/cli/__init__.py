"""The ``valuegap`` command line. Each command parses, calls one Ledger method, and renders.

Modules here import only Typer and light valuegap modules at the top; the Ledger (DuckDB,
pydantic) is imported when a command runs, so that ``valuegap --help`` starts fast.
"""

from __future__ import annotations

import typer

from valuegap.cli import (
    admin,
    agent,
    approval,
    audit,
    control,
    gate,
    ingest,
    initiative,
    key,
    ledger_file,
    metric,
    policy,
    price,
    remove,
    report,
    review,
    rules,
    user,
)
from valuegap.cli.common import before_the_command

app = typer.Typer(
    name="valuegap",
    help="valuegap: what your AI spend costs, and what it returns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    callback=before_the_command,
)
ledger_file.register(app)
app.add_typer(initiative.app, name="initiative")
app.add_typer(metric.app, name="metric")
app.add_typer(control.app, name="control")
app.add_typer(user.app, name="user")
app.add_typer(audit.app, name="audit")
app.add_typer(ingest.app, name="ingest")
app.add_typer(price.app, name="price")
app.add_typer(remove.app, name="remove")
app.add_typer(rules.app, name="rules")
app.add_typer(report.app, name="report")
app.add_typer(policy.app, name="policy")
app.add_typer(gate.app, name="gate")
app.add_typer(approval.app, name="approval")
app.add_typer(review.app, name="review")
app.add_typer(agent.app, name="agent")
app.add_typer(key.app, name="key")
app.add_typer(admin.app, name="admin")


def main() -> None:
    app()

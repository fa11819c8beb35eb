"""The program's groups of commands (``initiative``, ``report``, ...), made when one is used.

To run a command, Typer makes every command of the program into a Click command first, reading
each one's options from its function's signature; with the 24 groups' modules imported for it,
that was 30 to 50 ms of CPU of every command's start, a tenth of what a short report needs
in all (benchmarks/cli.py). The top level (``Program``) instead imports a group's module
and makes the group when it is run or its help shown; its own help lists the groups from their
summaries here, without making any. A group in turn makes a command when it is run or its help
shown (``Commands``): a report runs one of the 13 of ``report``.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import typer
import typer.main
from typer.models import CommandInfo

from valuegap.cli.help_text import Command, Group

# Each group's summary, by the name of the group and of its module (valuegap.cli.<name>), in
# the order the top-level help lists them.
GROUPS = {
    "initiative": "Add, list, show and move initiatives through their stages.",
    "metric": "Define success metrics before any code is written; agree their methods.",
    "control": "Attest production-readiness controls, with evidence.",
    "user": "Add users, give them roles (admin only), and set passwords.",
    "token": "Make, list and revoke API tokens for the server.",
    "audit": "The tamper-evident audit log: list it, verify it, sign checkpoints.",
    "ingest": (
        "Load cloud bills (FOCUS), LLM usage, manual costs, currency rates, measured outcomes "
        "and adoption data."
    ),
    "price": "Token prices: organisation overrides, and usage that cannot be priced.",
    "source": (
        "External sources: FOCUS exports and usage logs read where they live, by the engine."
    ),
    "remove": (
        "Remove wrong cost lines (FOCUS lines, usage events, manual costs), by key or by the "
        "file they came from. One transaction; the rows removed stay in the audit log."
    ),
    "rules": "Allocation rules: which initiative and business unit a cost belongs to.",
    "report": (
        "Reports: costs, reconciliation, spend forecast, spend anomalies, initiative, "
        "portfolio, coverage trend, executive report, J-curve, scoreboard, adoption, "
        "conviction, showback."
    ),
    "chargeback": "Chargeback: switch a business unit to it from a month, list, close a month.",
    "policy": "Policies: stage gates and agent guardrails as CEL rules, in layers.",
    "gate": "Stage gates: check what a move would need.",
    "approval": "Approvals: stage moves that a gate sent to the governance role.",
    "review": "Reviews: scale, continue, fix or kill, with reasons.",
    "agent": "Agents: what they may do, and whether they may do it now.",
    "scenario": "ROI scenarios: inference cost repriced under changes, beside the baseline.",
    "budget": "Budgets: what may be spent, per month or period, and what was.",
    "alert": (
        "Alerts: budget thresholds reached, forecast overruns, spend anomalies, and where "
        "they were delivered."
    ),
    "key": (
        "The key that pseudonymises people: show its fingerprint, restore it, rotate it, move "
        "it out of the ledger's folder (admin only)."
    ),
    "adoption": "Adoption data: its retention.",
    "admin": "Upkeep: derived data computed again from the facts.",
}


class Program(Group):
    """The top level: its own commands (``init``, ``serve``, ...), then the groups of
    ``GROUPS``, each made on first use. Until then a group is a stand-in with its summary, so
    that the list of commands, the help and "Did you mean ...?" know it."""

    _listing = False

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, summary in GROUPS.items():
            self.commands.setdefault(name, _StandIn(name=name, help=summary))

    def get_command(self, ctx: Any, name: str) -> Any:
        found = super().get_command(ctx, name)
        if isinstance(found, _StandIn) and not self._listing:
            module = importlib.import_module(f"valuegap.cli.{name}")
            found = self.commands[name] = _commands_unmade(module.app)
        return found

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the help's list shows only each group's summary
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


class _StandIn(Group):
    """A group not made yet."""


class Commands(Group):
    """A group of ``GROUPS``: each of its commands is made (its options read from its
    function's signature) when it is run or its help shown, a stand-in until then."""

    def get_command(self, ctx: Any, name: str) -> Any:
        found = super().get_command(ctx, name)
        if isinstance(found, _Unmade):
            found = self.commands[name] = typer.main.get_command_from_info(
                found.info,
                pretty_exceptions_short=found.pretty_exceptions_short,
                rich_markup_mode=None,
            )
        return found


class _Unmade(Command):
    """A command not made yet: its registration."""

    def __init__(self, info: CommandInfo, pretty_exceptions_short: bool) -> None:
        super().__init__(name=info.name)
        self.info = info
        self.pretty_exceptions_short = pretty_exceptions_short


def group(name: str, cls: type[Commands] = Commands) -> typer.Typer:
    """The group ``name`` of ``GROUPS``, to add the commands of its module to."""
    return typer.Typer(
        name=name,
        help=GROUPS[name],
        cls=cls,
        rich_markup_mode=None,  # plain text, as the top level's (valuegap.cli)
        pretty_exceptions_enable=False,
        add_completion=False,
    )


def _commands_unmade(app: typer.Typer) -> Any:
    """``app``'s group (a ``Commands``), with a stand-in for each of its commands."""
    bare = copy.copy(app)
    bare.registered_commands = []
    made = typer.main.get_group(bare)
    for info in app.registered_commands:
        assert info.name, "every command is registered by name (cli.common.command)"
        made.commands[info.name] = _Unmade(info, app.pretty_exceptions_short)
    return made

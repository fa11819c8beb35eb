"""How help reads: a flag takes no value, so it shows no type (Typer shows ``<bool>``); and a
command's docstring becomes paragraphs of one line each, so that help breaks a sentence where
the terminal's width needs it, not where the source breaks its lines. Help is plain text (no
Rich, for a fast start), as wide as the terminal (Click's stops at 80 columns); a group lists
each command with the first paragraph of its help whole, wrapped to the width (Click would cut
it short with "...")."""

from __future__ import annotations

import inspect
import shutil
from typing import Any

from typer.core import TyperCommand, TyperGroup
from typer.models import Context


def _flags_untyped(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # what the help shows in the type column
    return params


def _summary(help: str | None) -> str | None:
    """The first paragraph of ``help``, on one line; None for no help."""
    if not help or not help.strip():
        return None
    return " ".join(inspect.cleandoc(help).split("\n\n")[0].split())


class _Context(Context):
    def make_formatter(self) -> Any:
        width = self.terminal_width or max(shutil.get_terminal_size().columns - 2, 50)
        return self.formatter_class(width=width, max_width=width)


class _Help:
    """What a command and a group of them share: flags without a type, summaries whole."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_untyped(super().get_params(ctx))  # type: ignore[misc]

    def get_short_help_str(self, limit: int = 45) -> str:
        command: Any = self  # a click command: short_help, deprecated and help are its own
        summary = None if command.short_help or command.deprecated else _summary(command.help)
        if summary is not None:
            return summary
        found: str = super().get_short_help_str(limit)  # type: ignore[misc]
        return found


class Command(_Help, TyperCommand):
    context_class = _Context


class Group(_Help, TyperGroup):
    context_class = _Context


def paragraphs(doc: str | None) -> str | None:
    """``doc`` with each paragraph (they are separated by a blank line) on one line."""
    if doc is None:
        return None
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))

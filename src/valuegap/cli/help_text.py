"""How help reads: a flag takes no value, so it shows no type (Typer shows ``<bool>``); and a
command's docstring becomes paragraphs of one line each, so that help breaks a sentence where
the terminal's width needs it, not where the source breaks its lines."""

from __future__ import annotations

import inspect
from typing import Any

from typer.core import TyperCommand, TyperGroup


def _flags_untyped(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # what the help shows in the type column
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_untyped(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_untyped(super().get_params(ctx))


def paragraphs(doc: str | None) -> str | None:
    """``doc`` with each paragraph (they are separated by a blank line) on one line."""
    if doc is None:
        return None
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))

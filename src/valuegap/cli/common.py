"""What every command shares: ``--db``, ``--as`` and ``--debug``, opening the ledger, and turning
a ``ValuegapError`` into ``Error: ...`` and exit code 1 (usage errors exit 2).

``@command(app, name)`` adds the three options to a command's signature, so each command's own
parameters stay about what it does.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuegap.cli import errors
from valuegap.errors import ValuegapError
from valuegap.render import Format

if TYPE_CHECKING:
    from valuegap.ledger import Ledger


OutputFormat = Format


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="table for people; json or csv for machines; markdown for documents."
    ),
]


@dataclass(frozen=True)
class CommonOptions:
    db: Path | None = None
    actor: str | None = None
    debug: bool = False


_COMMON: dict[str, Any] = {
    "db": Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="VALUEGAP_DB",
            dir_okay=False,
            help="The ledger file (default: ./valuegap.duckdb).",
            rich_help_panel="Common options",
        ),
    ],
    "actor": Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="VALUEGAP_USER",
            help="Act as this user (default: your login name).",
            rich_help_panel="Common options",
        ),
    ],
    "debug": Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback on errors.",
                     rich_help_panel="Common options"),
    ],
}  # fmt: skip
_DEFAULTS = {"db": None, "actor": None, "debug": False}
_current: contextvars.ContextVar[CommonOptions | None] = contextvars.ContextVar(
    "valuegap_options", default=None
)


def command(app: typer.Typer, name: str) -> Callable[[Callable[..., Any]], Any]:
    """Register ``func`` as command ``name`` of ``app``, with the common options."""

    def register(func: Callable[..., Any]) -> Any:
        signature = inspect.signature(func, eval_str=True)
        extra = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS[n],
                              annotation=annotation)
            for n, annotation in _COMMON.items()
        ]  # fmt: skip

        @functools.wraps(func)
        def wrapper(*args: Any, db: Path | None, actor: str | None, debug: bool, **kw: Any) -> Any:
            token = _current.set(CommonOptions(db, actor, debug))
            try:
                return func(*args, **kw)
            except ValuegapError as exc:
                if debug:
                    raise
                typer.echo(f"Error: {errors.message(exc)}", err=True)
                raise typer.Exit(1) from None
            finally:
                _current.reset(token)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        wrapper.__annotations__ = {**typing.get_type_hints(func, include_extras=True), **_COMMON}
        return app.command(name)(wrapper)

    return register


def options() -> CommonOptions:
    return _current.get() or CommonOptions()


def open_ledger(*, read_only: bool = False) -> Ledger:
    """The ledger of ``--db``, as ``--as``. A command that only reads opens it ``read_only``, so
    that other processes may read it at the same time."""
    from valuegap.ledger import Ledger
    from valuegap.settings import load_settings

    opts = options()
    return Ledger.open(
        actor=opts.actor,
        settings=load_settings({"db": opts.db}),
        read_only=read_only,
        on_wait=_say_waiting,
    )


def _say_waiting(message: str) -> None:
    typer.echo(message, err=True)


def init_ledger() -> Ledger:
    from valuegap.ledger import Ledger
    from valuegap.settings import load_settings

    opts = options()
    return Ledger.init(actor=opts.actor, settings=load_settings({"db": opts.db}))

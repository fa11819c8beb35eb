"""What every command shares: ``--db``, ``--as`` and ``--debug``, opening the ledger, and turning
a ``ValuegapError`` into ``Error: ...`` and exit code 1 (usage errors exit 2).

``@command(app, name)`` adds the three options to a command's signature, so each command's own
parameters stay about what it does. The same options, and ``--format``, may also come before
the command (``valuegap --db x report costs``): ``before_the_command`` is the app's callback and
keeps them for the command, where an option given after the command wins.
"""

from __future__ import annotations

import contextvars
import functools
import gc
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuegap.cli import errors, help_text
from valuegap.errors import ValuegapError
from valuegap.records import record
from valuegap.render import Format

if TYPE_CHECKING:
    from valuegap.ledger import Ledger


OutputFormat = Format


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        metavar="<format>",  # the help names the four, and so leaves them room
        help="table for people; json or csv for machines; markdown for documents.",
    ),
]


@record
class CommonOptions:
    db: Path | None = None
    actor: str | None = None
    debug: bool = False


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="VALUEGAP_DB",
        dir_okay=False,
        help="The ledger file (default: ./valuegap.duckdb).",
        rich_help_panel="Common options",
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="VALUEGAP_USER",
        help="Act as this user (default: your login name).",
        rich_help_panel="Common options",
    ),
]
DebugOption = Annotated[
    bool,
    typer.Option("--debug", help="Show the traceback on errors.", rich_help_panel="Common options"),
]
_COMMON: dict[str, Any] = {"db": DbOption, "actor": ActorOption, "debug": DebugOption}
_DEFAULTS = {"db": None, "actor": None, "debug": False}
_BEFORE = "valuegap.options_before_the_command"  # the key of those options in the context's meta
_current: contextvars.ContextVar[CommonOptions | None] = contextvars.ContextVar(
    "valuegap_options", default=None
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"valuegap {version('valuegap')}")
        raise typer.Exit()


def before_the_command(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="<format>",
            help="table, json, csv or markdown, for the commands that show a result.",
            rich_help_panel="Common options",
        ),
    ] = None,
    debug: DebugOption = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """The common options given before the command, kept for it."""
    ctx.meta[_BEFORE] = {"db": db, "actor": actor, "fmt": fmt, "debug": debug}


def _as_given(ctx: typer.Context, params: dict[str, Any]) -> dict[str, Any]:
    """A command's ``params`` as it parsed them (given after the command, from the environment
    or by default), where a common option given before the command and not after it takes
    the value given before."""
    before: dict[str, Any] = ctx.meta.get(_BEFORE, {})
    return {
        name: before[name] if before.get(name) is not None and not _typed(ctx, name) else value
        for name, value in params.items()
    }


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether the command line gave option ``name`` of this command."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _options(ctx: typer.Context) -> dict[str, str]:
    """The command's options by parameter name, each as its longest flag."""
    return {
        param.name: max(param.opts, key=len)
        for param in ctx.command.params
        if param.name and param.param_type_name == "option"
    }


def command(app: typer.Typer, name: str) -> Callable[[Callable[..., Any]], Any]:
    """Register ``func`` as command ``name`` of ``app``, with the common options."""

    def register(func: Callable[..., Any]) -> Any:
        signature = inspect.signature(func, eval_str=True)
        extra = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS[n],
                              annotation=annotation)
            for n, annotation in _COMMON.items()
        ]  # fmt: skip
        context = inspect.Parameter(
            "common_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )

        @functools.wraps(func)
        def wrapper(*args: Any, common_context: typer.Context, **kw: Any) -> Any:
            kw = _as_given(common_context, kw)  # fmt, if the command has it, is the --format
            db, actor, debug = (kw.pop(name) for name in _COMMON)
            token = _current.set(CommonOptions(db, actor, debug))
            try:
                return func(*args, **kw)
            except ValuegapError as exc:
                if debug:
                    raise
                said = errors.message(exc, _options(common_context))
                typer.echo(f"Error: {said}", err=True)
                raise typer.Exit(1) from None
            finally:
                _current.reset(token)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra, context]
        )
        # The annotations as the signature evaluated them: evaluating them again (get_type_hints)
        # took as long, for each command of a group when its module is imported.
        given = signature.parameters.values()
        wrapper.__annotations__ = {
            **{p.name: p.annotation for p in given if p.annotation is not p.empty},
            **_COMMON,
            "common_context": typer.Context,
        }
        summary = help_text.paragraphs(func.__doc__)
        return app.command(name, cls=help_text.Command, help=summary)(wrapper)

    return register


# A command allocates what it starts with (modules, classes, the ledger's parts) once and keeps
# it to its end: the cyclic collector's passes over the young objects, every 700 allocations
# by default, were a twentieth of a report's CPU, finding nothing to free. A pass every
# 100,000 still bounds what a long command (an ingest) leaves in cycles. The server goes back
# to Python's thresholds (``serve``).
COMMAND_COLLECTION = 100_000
_PYTHON_THRESHOLDS = gc.get_threshold()


def collect_for_a_command() -> None:
    """The cyclic collector's thresholds for a command's process (``COMMAND_COLLECTION``)."""
    gc.set_threshold(COMMAND_COLLECTION, *_PYTHON_THRESHOLDS[1:])


def collect_as_python_does() -> None:
    """Python's own thresholds again, for a long-running process."""
    gc.set_threshold(*_PYTHON_THRESHOLDS)


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
        on_wait=say_waiting,
    )


def say_waiting(message: str) -> None:
    typer.echo(message, err=True)


def init_ledger() -> Ledger:
    from valuegap.ledger import Ledger
    from valuegap.settings import load_settings

    opts = options()
    return Ledger.init(actor=opts.actor, settings=load_settings({"db": opts.db}))

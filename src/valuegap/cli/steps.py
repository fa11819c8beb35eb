"""Long work in named steps, shown on stderr as it goes: on a terminal, the step under way
beside a spinner and the time so far, gone when the work ends; elsewhere (a pipe, a log) one
line a step. Either way the time it took comes last."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer


@contextmanager
def steps(title: str) -> Iterator[Callable[[str], None]]:
    """A function to call with each step's name as it starts, e.g. with ``title`` "Building
    the demo": "Building the demo: costs…", then "Building the demo: done in 12.3 s"."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    started = time.perf_counter()
    if console.is_terminal:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as shown:
            task = shown.add_task(f"{title}…")
            yield lambda step: shown.update(task, description=f"{title}: {step}…")
    else:
        yield lambda step: typer.echo(f"{title}: {step}…", err=True)
    typer.echo(f"{title}: done in {time.perf_counter() - started:.1f} s", err=True)

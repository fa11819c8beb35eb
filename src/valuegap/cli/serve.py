"""``valuegap serve``: the ledger as a shared service (the dashboard, the API, sign-in, the OTLP
receiver); with ``--demo``, the Northwind demo built first, and a login to try it with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuegap.cli.common import collect_as_python_does, options, say_waiting

if TYPE_CHECKING:
    from valuegap.settings import Settings

DEMO_LOGIN = "demo"  # the admin `serve --demo` signs people in as


def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Build the Northwind demo first (in a temporary ledger, or in --db) and print "
            "a login for it.",
        ),
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="With --demo: replace a demo ledger (--db) that has changed since the demo "
            "built it.",
        ),
    ] = False,
) -> None:
    """Serve the ledger: the dashboard at /, the API under /api/v1 (OpenAPI at
    /api/v1/openapi.json), browser sign-in, and OpenTelemetry's OTLP/HTTP at /v1/traces. Everything
    but /healthz, the sign-in page, the pages' scripts and the API's schema needs an API token
    (`valuegap token create`) or a signed-in user (`valuegap user password`)."""
    import dataclasses

    from valuegap.ledger import Ledger
    from valuegap.settings import load_settings
    from valuegap.web.server import run

    if replace and not demo:
        raise typer.BadParameter("--replace is for --demo only.", param_hint="--replace")
    with _ledger_file(demo) as (db, key_file):
        settings = load_settings({"db": db})
        if key_file is not None:
            settings = dataclasses.replace(settings, pseudonym_key_file=str(key_file))
        if settings.threads is None:  # many requests at once: docs/architecture.md, "Concurrency"
            settings = dataclasses.replace(settings, threads=1)
        if demo:
            password = _build_demo(settings, replace)
            typer.echo(
                f"Serving the demo at http://{_shown(host)}:{port}/ - sign in as {DEMO_LOGIN} "
                f"with the password {password} (made for this run)."
            )
        collect_as_python_does()  # a server runs for days: main() set a command's thresholds
        with Ledger.open(actor=options().actor, settings=settings, on_wait=say_waiting) as ledger:
            run(ledger, host=host, port=port)


@contextlib.contextmanager
def _ledger_file(demo: bool) -> Iterator[tuple[Path | None, Path | None]]:
    """The ledger to serve, and its pseudonymisation key file if not the settings': ``--db``
    (or the settings' ledger) as given; for a demo without ``--db``, a new file and its key
    in a temporary folder, removed when the server stops."""
    if options().db is not None or not demo:
        yield options().db, None
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="valuegap-demo-") as folder:
        yield Path(folder) / "demo.duckdb", Path(folder) / "demo.key"


def _build_demo(settings: Settings, replace: bool) -> str:
    """Build the demo in ``settings.db`` (as ``valuegap demo`` does: an existing file that is
    not a demo ledger is left alone), add the admin ``demo`` with a new random password, and
    return the password. The file still counts as the demo unchanged, so that a later
    ``serve --demo`` rebuilds it without ``--replace``."""
    import secrets

    from valuegap.cli.steps import steps
    from valuegap.demo import DEMO_ORIGIN, build_demo
    from valuegap.ledger import Ledger
    from valuegap.settings import acting_user

    builder = acting_user(options().actor)
    with steps("Building the demo") as progress:
        build_demo(settings, actor=builder, replace=replace, progress=progress)
    password = secrets.token_urlsafe(12)
    with Ledger.open(actor=builder, settings=settings) as ledger:
        if builder != DEMO_LOGIN:
            ledger.governance.users.add_user(DEMO_LOGIN, "admin")
        ledger.governance.credentials.set_password(DEMO_LOGIN, password)
        ledger.set_origin(DEMO_ORIGIN)
    return password


def _shown(host: str) -> str:
    """The host as a browser's address takes it (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host

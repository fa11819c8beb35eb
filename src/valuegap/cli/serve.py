"""``valuegap serve``: the ledger as a shared service (the API, sign-in, the OTLP receiver)."""

from __future__ import annotations

from typing import Annotated

import typer

from valuegap.cli.common import options, say_waiting


def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the ledger: the API under /api/v1 (OpenAPI at /api/v1/openapi.json), browser
    sign-in, and OpenTelemetry's OTLP/HTTP at /v1/traces. Every route but /healthz needs an
    API token (`valuegap token create`) or a signed-in user (`valuegap user password`)."""
    import dataclasses

    from valuegap.ledger import Ledger
    from valuegap.settings import load_settings
    from valuegap.web.server import run

    settings = load_settings({"db": options().db})
    if settings.threads is None:  # many requests at once: docs/architecture.md, "Concurrency"
        settings = dataclasses.replace(settings, threads=1)
    with Ledger.open(actor=options().actor, settings=settings, on_wait=say_waiting) as ledger:
        run(ledger, host=host, port=port)

"""What `valuegap serve` prepares before it serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIRST_DRAIN = """
import sys
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from valuegap import Ledger
from valuegap.web.app import create_app
from valuegap.web.server import freeze_start_up

request = ExportTraceServiceRequest()
span = request.resource_spans.add().scope_spans.add().spans.add(name="chat gpt-4o-mini")
span.trace_id, span.span_id = bytes(range(16)), bytes(range(8))
span.start_time_unix_nano = 1_764_000_000_000_000_000
for key, value in [("gen_ai.system", "openai"), ("gen_ai.request.model", "gpt-4o-mini")]:
    span.attributes.add(key=key).value.string_value = value
for key, count in [("gen_ai.usage.input_tokens", 1200), ("gen_ai.usage.output_tokens", 300)]:
    span.attributes.add(key=key).value.int_value = count
with Ledger.init(Path(sys.argv[1]), actor="alice") as ledger:
    create_app(ledger)
    freeze_start_up()
    before = set(sys.modules)
    ledger.costs.inbox.receive(request)
    assert ledger.costs.inbox.drain().added == 1
    print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_the_first_drain_of_spans_imports_nothing_the_server_did_not_import_at_start(
    tmp_path: Path,
) -> None:
    """An import holds the interpreter lock: the first drain imported 76 modules (the usage
    ingest, prices, pyarrow's datasets), a third of a second in which every decision waited.
    A module a drain needs is imported at start-up (``IMPORTED_BY_REQUESTS``)."""
    ran = subprocess.run(
        [sys.executable, "-c", FIRST_DRAIN, str(tmp_path / "ledger.duckdb")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [], "add these to web/server.py's IMPORTED_BY_REQUESTS"

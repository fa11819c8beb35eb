"""The server under load on loopback, each measure beside its floor in the same run.

    python benchmarks/server.py                          # the 10 M-event ledger (built once)
    python benchmarks/server.py --events 1000000 --focus 100000      # a quick run
    python benchmarks/server.py --work bench-data --seconds 20
    python benchmarks/server.py --work bench-data --authorize-only --profile authorize.svg

It builds the demo organisation with the generated usage events and FOCUS lines of ``run.py``
ingested into it (kept in ``--work``), starts ``valuegap serve``'s application on it in a
separate process (Uvicorn, DuckDB with one thread, as ``valuegap serve`` runs), with three bare
FastAPI routes on the same server beside it: the floors (and a fourth that tells the server's
CPU time). Then, from this process:

- agent authorisation: ``POST /api/v1/agents/refund-agent/authorize`` as the agent's service
  account at ``--rate`` requests a second (default 500) for ``--seconds``, sent on schedule
  from 32 threads, each on a kept-alive connection (open loop: a slow answer does not delay
  the next request, and each latency counts from when its request was due); its floor, the
  same load on a bare route that parses the same body and answers a decision. Target: p99 <=
  10 ms. Also the server's CPU a request (all its threads), which a busy machine moves less
  than latencies. Then the same load again while an instrumented application exports 100
  GenAI spans a second to ``/v1/traces`` (one batch a second, dated now), so that the
  server's drain runs beside the decisions; floor: the bare routes under the same two loads.
- the portfolio report: ``GET /api/v1/reports/portfolio`` as an admin, one at a time once
  warm; floor, a bare route answering a document of the same size. Target: p95 <= 150 ms.
- OTLP: ``POST /v1/traces`` with batches of 100 GenAI spans (protobuf), from 4 senders; each
  batch acknowledged only once durable (committed to the inbox). Floor: a bare route reading
  the same bodies. Target: at least 20,000 spans a second.
- the OTLP drain, once the server has stopped, in this process: ``--drain-spans`` spans
  committed to the inbox, then one drain moves them into usage events (wall and CPU time). It
  must keep up with the receiver: target at least 20,000 spans a second. Twice: spans of now,
  and spans of the month that holds the most calls (2.7 M in the 10 M-event ledger), as a
  server's current month holds its calls so far.

``--authorize-only`` measures agent authorisation alone (and its floor), with and without
the exports beside it. ``--profile FILE``
has py-spy sample the server's threads while authorisation is measured: a flame graph
(``.svg``), or py-spy's collapsed stacks, one a line (any other suffix). The server's alert
check starts a minute after the server (web/alert_check.py): a run longer than that measures
it too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

AGENT, AGENT_ACCOUNT, ADMIN = "refund-agent", "svc.refund-agent", "root"
AUTHORIZE = f"/api/v1/agents/{AGENT}/authorize"
PORTFOLIO = "/api/v1/reports/portfolio"
TRACES = "/v1/traces"
AUTHORIZE_P99_MS, PORTFOLIO_P95_MS, SPANS_PER_SECOND = 10.0, 150.0, 20_000
BATCH = 100
CLIENTS = 32  # threads sending authorisations, each on its own connection
SENDERS = 4
# (amount, answer) in turn: under the approval threshold, above it, above the hard cap.
CASES = [("45.90", "allow"), ("350", "needs_approval"), ("1500", "deny")]


def build(work: Path, events: int, focus: int) -> Path:
    """The demo organisation with ``events`` usage events and ``focus`` FOCUS lines more."""
    from generate import generated

    from valuegap import Ledger
    from valuegap.demo import build_demo
    from valuegap.settings import Settings

    db = work / f"server-{events}-{focus}.duckdb"
    if db.exists():
        return db
    usage_file, focus_file = generated(work, events, focus)
    started = time.perf_counter()
    building = work / f"{db.name}.building"
    for leftover in (building, Path(f"{building}.wal")):
        leftover.unlink(missing_ok=True)
    build_demo(Settings(db=building), actor=ADMIN)
    with Ledger.open(building, actor=ADMIN) as ledger:
        ledger.costs.ingest_focus([focus_file])
        ledger.costs.ingest_usage(usage_file, "csv")
    building.rename(db)
    took = time.perf_counter() - started
    print(f"built {db.name}: the demo, {events:,} events, {focus:,} FOCUS lines, {took:.0f} s")
    return db


def tokens(db: Path) -> tuple[str, str]:
    """An API token for the refund agent's account and one for an admin."""
    from valuegap import Ledger

    with Ledger.open(db, actor=ADMIN) as ledger:
        made = ledger.governance.credentials
        agent = made.create_token(AGENT_ACCOUNT, label="benchmark").secret
        admin = made.create_token(ADMIN, label="benchmark").secret
    return agent, admin


# The server process: valuegap's application, and the floors on the same stack.


class Ask(BaseModel):
    """What an agent's request to authorise holds (the floor parses the same body)."""

    action: str
    amount: str | None = None
    context: dict[str, str] = {}


def serve(db: Path, port: int) -> None:
    import uvicorn
    from fastapi import Request, Response

    from valuegap import Ledger
    from valuegap.settings import load_settings
    from valuegap.web.app import create_app
    from valuegap.web.server import Server, freeze_start_up

    settings = dataclasses.replace(load_settings({"db": str(db)}), threads=1)
    ledger = Ledger.open(db, actor=ADMIN, settings=settings)
    app = create_app(ledger)
    report = ledger.outcomes.portfolio_report()  # the floor answers a document of this size
    from valuegap.results import to_json

    report_body = to_json(report).encode()

    @app.post("/floor/authorize")
    def floor_authorize(ask: Ask) -> dict[str, Any]:
        return {"agent": AGENT, "action": ask.action, "decision": "allow", "rules": []}

    @app.get("/floor/portfolio")
    def floor_portfolio() -> Response:
        return Response(report_body, media_type="application/json")

    @app.post("/floor/traces")
    async def floor_traces(request: Request) -> Response:
        await request.body()
        return Response(b"", media_type="application/x-protobuf")

    @app.get("/floor/cpu")
    def floor_cpu() -> dict[str, float]:
        """The server process's CPU seconds so far (all its threads)."""
        return {"cpu": time.process_time()}

    freeze_start_up()  # as valuegap serve does
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    with ledger:  # closed when the server stops (SIGTERM), as valuegap serve closes it
        Server(config).run()


@contextlib.contextmanager
def profiled(pid: int, output: Path | None, seconds: float) -> Iterator[None]:
    """With ``output``, py-spy samples the server (all its threads) while the block runs, and
    draws the flame graph there (``.svg``), or writes the stacks, one collapsed stack a line."""
    if output is None:
        yield
        return
    kind = "flamegraph" if output.suffix == ".svg" else "raw"
    command = ["py-spy", "record", "--pid", str(pid), "--threads", "--nonblocking", "-f", kind]
    spy = subprocess.Popen([*command, "--duration", f"{seconds:.0f}", "-o", str(output)])
    try:
        yield
    finally:
        spy.wait(seconds + 60)


def server_cpu(url: str) -> float:
    import httpx

    return float(httpx.get(f"{url}/floor/cpu").json()["cpu"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(db), "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


# The load.


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def open_loop(
    url: str, path: str, token: str, rate: float, seconds: float
) -> tuple[list[float], int, float]:
    """``rate`` POSTs a second on schedule for ``seconds``, from ``CLIENTS`` threads each with
    its own kept-alive connection: each latency from when its request was due (so a slow
    answer delays nobody's clock), in ms; the errors; the rate achieved."""
    host, port = url.removeprefix("http://").split(":")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: list[str] = []
    next_number = iter(range(total))
    lock = threading.Lock()
    floor = path.startswith("/floor")
    started = time.perf_counter() + 0.1

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                number = next(next_number, None)
            if number is None:
                break
            due = started + number / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            amount, expected = CASES[number % len(CASES)]
            order = {"order_id": f"BENCH-{os.getpid()}-{number}"}
            body = json.dumps({"action": "issue_refund", "amount": amount, "context": order})
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
            except (OSError, http.client.HTTPException, ValueError) as failed:
                errors.append(repr(failed))
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                continue
            latency = (time.perf_counter() - due) * 1000
            decided = answer.get("decision") if response.status == 200 else response.status
            with lock:
                latencies.append(latency)
                if decided != expected and not (floor and decided == "allow"):
                    errors.append(f"{decided!r} for {amount}")
        connection.close()

    # A collection of this process's heap (valuegap's, imported to make the tokens) stops
    # every client thread for 20 to 40 ms: that would count as the server's latency.
    gc.disable()
    try:
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.enable()
    if errors:
        print(f"  {path}: {len(errors)} unexpected answers, the first: {errors[0]}")
    return latencies, len(errors), total / (time.perf_counter() - started)


def sequential(url: str, path: str, token: str, repeats: int) -> list[float]:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(3):
            client.get(path).raise_for_status()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def span_batch(first: int, end: int | None = None) -> bytes:
    """An OTLP request of ``BATCH`` GenAI spans with unique ids, as protobuf, that end at
    ``end`` (nanoseconds since the epoch; default now)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    def attribute(key: str, value: str | int) -> KeyValue:
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=value))

    now = time.time_ns() if end is None else end
    spans = [
        Span(
            trace_id=(first + i).to_bytes(16, "big"),
            span_id=(first + i).to_bytes(8, "big"),
            name="chat gpt-4o-mini",
            start_time_unix_nano=now - 1_000_000_000,
            end_time_unix_nano=now,
            attributes=[
                attribute("gen_ai.operation.name", "chat"),
                attribute("gen_ai.system", "openai"),
                attribute("gen_ai.request.model", "gpt-4o-mini"),
                attribute("gen_ai.response.model", "gpt-4o-mini"),
                attribute("gen_ai.usage.input_tokens", 1200 + i),
                attribute("gen_ai.usage.output_tokens", 300 + i),
            ],
        )
        for i in range(BATCH)
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    )
    return request.SerializeToString()


@contextlib.contextmanager
def exporting(url: str, path: str, token: str) -> Iterator[list[int]]:
    """While the block runs, one export of ``BATCH`` spans dated now to ``path`` every second,
    as an application instrumented with OpenTelemetry sends its calls: the list the block gets
    holds the statuses of the exports answered."""
    import httpx

    answered: list[int] = []
    stop = threading.Event()

    def sender() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-protobuf"}
        first = time.time_ns() + 2_000_000_000  # ids that no other sender of the run uses
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            while not stop.is_set():
                body = span_batch(first + len(answered) * BATCH)
                answered.append(client.post(path, content=body).status_code)
                stop.wait(1.0)

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        yield answered
    finally:
        stop.set()
        thread.join()


def send_spans(url: str, path: str, token: str, batches: int) -> tuple[float, int]:
    """``batches`` batches from ``SENDERS`` threads: spans a second, and failed batches."""
    import httpx

    first = time.time_ns()  # ids no earlier run used
    bodies = [span_batch(first + n * BATCH) for n in range(batches)]
    failures = 0
    lock = threading.Lock()

    def sender(part: list[bytes]) -> None:
        nonlocal failures
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-protobuf"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for body in part:
                if client.post(path, content=body).status_code != 200:
                    with lock:
                        failures += 1

    threads = [threading.Thread(target=sender, args=(bodies[n::SENDERS],)) for n in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return batches * BATCH / (time.perf_counter() - started), failures


def line(name: str, figure: str, floor: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else "yes" if met else "NO"
    print(f"{name:34} {figure:>22} {floor:>22} {target:>16} {verdict:>4}")


def run(args: argparse.Namespace) -> None:
    print(
        f"valuegap server benchmark on {platform.node()}: {platform.machine()}, "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), "
        f"Python {platform.python_version()}",
        flush=True,
    )
    db = build(args.work, args.events, args.focus)
    copy = args.work / f"serving-{db.name}"
    # Decisions and spans land in a copy, not in the built ledger; no log of an earlier copy.
    for log in (Path(f"{copy}.wal"), *args.work.glob(f"{copy.name}.journal.*")):
        log.unlink(missing_ok=True)
    shutil.copyfile(db, copy)
    if Path(f"{db}.wal").exists():
        shutil.copyfile(f"{db}.wal", f"{copy}.wal")
    agent_token, admin_token = tokens(copy)
    spans_before = otel_events(copy)
    process, url = start_server(copy)
    exported: list[int] = []  # the statuses of the exports beside authorisation
    try:

        def loop(path: str) -> tuple[list[float], int, float, float]:
            """The load on ``path``, and the server's CPU ms per request under it."""
            before = server_cpu(url)
            latencies, errors, rate = open_loop(url, path, agent_token, args.rate, args.seconds)
            return latencies, errors, rate, (server_cpu(url) - before) * 1000 / len(latencies)

        if not args.otlp_only:
            loop(AUTHORIZE)  # warm: caches, connections
            floor_authorize = loop("/floor/authorize")
            with profiled(process.pid, args.profile, args.seconds):
                authorize = loop(AUTHORIZE)
            with exporting(url, "/floor/traces", admin_token):
                floor_beside_exports = loop("/floor/authorize")
            with exporting(url, TRACES, admin_token) as exported:
                beside_exports = loop(AUTHORIZE)
        if not args.authorize_only:
            if not args.otlp_only:
                portfolio = sequential(url, PORTFOLIO, admin_token, args.repeats)
                floor_portfolio = sequential(url, "/floor/portfolio", admin_token, args.repeats)
            floor_spans, _ = send_spans(url, "/floor/traces", admin_token, args.batches)
            spans, failed = send_spans(url, TRACES, admin_token, args.batches)
    finally:
        process.terminate()
        process.wait(60)

    print(f"\n{'':34} {'valuegap':>22} {'floor':>22} {'target':>16} {'met':>4}")
    if not args.otlp_only:
        decided, errors, rate, cpu = authorize
        line(
            f"authorize at {args.rate:,.0f}/s: p50 / p99",
            f"{percentile(decided, 0.5):.2f} / {percentile(decided, 0.99):.2f} ms",
            f"{percentile(floor_authorize[0], 0.5):.2f} / "
            f"{percentile(floor_authorize[0], 0.99):.2f} ms",
            f"p99 <= {AUTHORIZE_P99_MS:g} ms",
            percentile(decided, 0.99) <= AUTHORIZE_P99_MS and errors == 0,
        )
        print(f"  {len(decided):,} decisions at {rate:,.0f}/s, {errors} unexpected answers")
        print(f"  the server's CPU a request: {cpu:.2f} ms (floor {floor_authorize[3]:.2f} ms)")
        decided, errors, _, _ = beside_exports
        line(
            "  while 100 spans/s are exported",
            f"{percentile(decided, 0.5):.2f} / {percentile(decided, 0.99):.2f} ms",
            f"{percentile(floor_beside_exports[0], 0.5):.2f} / "
            f"{percentile(floor_beside_exports[0], 0.99):.2f} ms",
            f"p99 <= {AUTHORIZE_P99_MS:g} ms",
            percentile(decided, 0.99) <= AUTHORIZE_P99_MS and errors == 0,
        )
        refused = sum(status != 200 for status in exported)
        print(
            f"  the slowest decision {max(decided):.1f} ms; {len(exported)} exports of {BATCH} "
            f"spans, {refused} refused"
        )
    if args.authorize_only:
        return
    if not args.otlp_only:
        line(
            "portfolio report: median / p95",
            f"{statistics.median(portfolio):.1f} / {percentile(portfolio, 0.95):.1f} ms",
            f"{statistics.median(floor_portfolio):.1f} / "
            f"{percentile(floor_portfolio, 0.95):.1f} ms",
            f"p95 <= {PORTFOLIO_P95_MS:g} ms",
            percentile(portfolio, 0.95) <= PORTFOLIO_P95_MS,
        )
    line(
        f"OTLP, batches of {BATCH}: spans/s",
        f"{spans:,.0f}",
        f"{floor_spans:,.0f}",
        f">= {SPANS_PER_SECOND:,}",
        spans >= SPANS_PER_SECOND and failed == 0,
    )
    print(f"  {args.batches * BATCH:,} spans from {SENDERS} senders, {failed} batches refused")
    trickled = sum(status == 200 for status in exported) * BATCH
    check(copy, spans_before, (args.batches - failed) * BATCH + trickled)
    month, calls = busiest_month(copy)
    for into, at in (("", None), (f" into {month:%Y-%m} ({calls:,} calls)", month)):
        drained, seconds, cpu = drain(copy, args.drain_spans, at)
        line(
            f"OTLP drain of {drained:,} spans{into}: spans/s",
            f"{drained / seconds:,.0f}",
            "",
            f">= {SPANS_PER_SECOND:,}",
            drained / seconds >= SPANS_PER_SECOND,
        )
        print(
            f"  {seconds:.2f} s, of which {cpu:.2f} s of this process's CPU "
            f"({drained / cpu:,.0f} spans a CPU second)"
        )


def busiest_month(db: Path) -> tuple[datetime, int]:
    """The month with the most calls, and how many."""
    from valuegap import Ledger

    with Ledger.open(db, actor=ADMIN, read_only=True) as ledger:
        found = ledger.session.db.one(
            "SELECT date_trunc('month', ts), count(*) FROM usage_events "
            "GROUP BY ALL ORDER BY 2 DESC LIMIT 1"
        )
    assert found is not None, "the ledger holds no calls"
    return found[0], int(found[1])


def drain(db: Path, spans: int, month: datetime | None = None) -> tuple[int, float, float]:
    """``spans`` spans committed to the inbox (made now, or in the middle of ``month``), then
    drained at once, as the server drains (DuckDB with one thread): (spans, seconds, CPU
    seconds) of the drain. A first drain of one batch warms the process (its imports, its
    caches), as a running server's drain thread is."""
    from valuegap import Ledger
    from valuegap.costs.otlp import from_protobuf
    from valuegap.settings import load_settings

    first = time.time_ns() + 1_000_000_000  # ids the run's senders did not use
    middle = None if month is None else month.replace(tzinfo=UTC) + timedelta(days=14)
    end = None if middle is None else int(middle.timestamp() * 1e9)
    settings = dataclasses.replace(load_settings({"db": str(db)}), threads=1)
    with Ledger.open(db, actor=ADMIN, settings=settings) as ledger:
        ledger.costs.inbox.receive(from_protobuf(span_batch(first - BATCH, end)))
        ledger.costs.inbox.drain()
        for n in range(spans // BATCH):
            ledger.costs.inbox.receive(from_protobuf(span_batch(first + n * BATCH, end)))
        started, cpu = time.perf_counter(), time.process_time()
        drained = ledger.costs.inbox.drain(spans)
        return drained.spans, time.perf_counter() - started, time.process_time() - cpu


def otel_events(db: Path) -> int:
    from valuegap import Ledger

    with Ledger.open(db, actor=ADMIN, read_only=True) as ledger:
        found = ledger.session.db.one("SELECT count(*) FROM usage_events WHERE source = 'otel'")
    return int(found[0]) if found else 0


def check(db: Path, spans_before: int, spans: int) -> None:
    """Every acknowledged span is in the ledger, and the audit chain holds."""
    from valuegap import Ledger

    stored = otel_events(db) - spans_before
    with Ledger.open(db, actor=ADMIN, read_only=True) as ledger:
        verified = ledger.governance.audit.verify_audit()
    print(f"spans stored: {stored:,} of {spans:,} acknowledged; audit: {verified.message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--focus", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--rate", type=float, default=500.0, help="authorisations a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="of authorisation load")
    parser.add_argument("--repeats", type=int, default=50, help="portfolio reports")
    parser.add_argument("--batches", type=int, default=200, help="OTLP batches of 100 spans")
    parser.add_argument("--drain-spans", type=int, default=50_000, help="spans a drain moves")
    parser.add_argument("--otlp-only", action="store_true", help="measure OTLP alone")
    parser.add_argument(
        "--authorize-only", action="store_true", help="measure agent authorisation alone"
    )
    parser.add_argument("--profile", type=Path, help="py-spy's profile of authorize (.svg)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    run(args)


if __name__ == "__main__":
    main()

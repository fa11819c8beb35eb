"""Each dashboard page's server time on the 10 M-event ledger, beside its floor in the same run.

    python benchmarks/pages.py                            # the 10 M-event ledger (built once)
    python benchmarks/pages.py --db LEDGER                # a ledger server.py built: copied first
    python benchmarks/pages.py --events 1000000 --focus 100000 --repeats 20    # a quick run

It takes the ledger ``server.py`` builds (the demo organisation with ``run.py``'s generated
usage events and FOCUS lines: ``--db``, which is copied into ``--work`` and never changed, or
built there), gives the admin a password and serves ``valuegap serve``'s application on the copy
in a separate process (Uvicorn, DuckDB with one thread, as ``valuegap serve`` runs), with one
bare route beside it: the floor, which answers a fixed HTML page of the size asked. From this
process it signs in as a browser does, asks every page once to warm it and learn its size, then
``--repeats`` times each page and its floor in turn, one request at a time on a kept-alive
connection, and prints the median and p95 of each in ms. Target: p95 <= 150 ms a page.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import http.client
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from server import ADMIN, build, free_port, percentile  # noqa: E402

PASSWORD = "benchmark-password"
PAGE_P95_MS = 150.0
PAGES = [
    "/portfolio",
    "/initiatives/code-review",
    "/costs",
    "/adoption",
    "/governance",
    "/scenarios",
]


def serve(db: Path, port: int) -> None:
    import uvicorn
    from fastapi.responses import HTMLResponse

    from valuegap import Ledger
    from valuegap.settings import load_settings
    from valuegap.web.app import create_app

    settings = dataclasses.replace(load_settings({"db": str(db)}), threads=1)
    ledger = Ledger.open(db, actor=ADMIN, settings=settings)
    app = create_app(ledger)
    filler = "<tr><td>floor</td><td class=num>1,234.56</td></tr>\n"

    @app.get("/floor/page/{size}")
    def floor_page(size: int) -> HTMLResponse:
        body = "<!doctype html><html><body><table>\n"
        body += filler * max(0, (size - len(body)) // len(filler))
        return HTMLResponse(body + "</table></body></html>")

    gc.freeze()  # as valuegap serve does (web/server.py)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn.Server(config).run()


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(db), "--port", str(port)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def signed_in_cookie(port: int) -> str:
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"name": ADMIN, "password": PASSWORD})
    connection.request("POST", "/login", body, {"Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    if answer.status != 200:
        raise SystemExit(f"could not sign in: {answer.status}")
    cookie = answer.getheader("set-cookie") or ""
    return cookie.split(";", 1)[0]


def timed(connection: http.client.HTTPConnection, path: str, cookie: str) -> tuple[float, int]:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    answer = connection.getresponse()
    body = answer.read()
    took = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise SystemExit(f"{path}: {answer.status} {body[:300]!r}")
    return took, len(body)


def run(args: argparse.Namespace) -> None:
    from valuegap import Ledger

    args.work.mkdir(parents=True, exist_ok=True)
    if args.db is not None:
        db = args.work / f"pages-{args.db.name}"
        shutil.copy(args.db, db)
    else:
        built = build(args.work, args.events, args.focus)
        db = args.work / f"pages-{built.name}"
        shutil.copy(built, db)
    Path(f"{db}.wal").unlink(missing_ok=True)
    with Ledger.open(db, actor=ADMIN) as ledger:
        ledger.governance.credentials.set_password(ADMIN, PASSWORD)
    process, port = start_server(db)
    try:
        cookie = signed_in_cookie(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        sizes = {}
        for page in args.pages:
            first, size = timed(connection, page, cookie)
            timed(connection, page, cookie)
            sizes[page] = size
            print(f"{page}: first request {first:.0f} ms, {size:,} bytes")
        times: dict[str, list[float]] = {page: [] for page in args.pages}
        floors: dict[str, list[float]] = {page: [] for page in args.pages}
        for _ in range(args.repeats):
            for page in args.pages:
                times[page].append(timed(connection, page, cookie)[0])
                floors[page].append(timed(connection, f"/floor/page/{sizes[page]}", cookie)[0])
    finally:
        process.terminate()
        process.wait(timeout=60)
        if not args.keep:
            for made in (db, Path(f"{db}.wal")):
                made.unlink(missing_ok=True)
    print(f"\n{args.repeats} requests a page, one at a time; ms (median / p95)")
    print(f"{'page':28} {'median':>8} {'p95':>8}   {'floor':>8} {'p95':>8}   target p95 <= 150")
    for page in args.pages:
        p95 = percentile(times[page], 0.95)
        print(
            f"{page:28} {statistics.median(times[page]):8.1f} {p95:8.1f}   "
            f"{statistics.median(floors[page]):8.1f} {percentile(floors[page], 0.95):8.1f}"
            f"   {'met' if p95 <= PAGE_P95_MS else 'NOT MET'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a ledger server.py built (copied first)")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--focus", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--pages", nargs="+", default=PAGES)
    parser.add_argument("--keep", action="store_true", help="keep the copy of the ledger")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port)
    else:
        run(args)


if __name__ == "__main__":
    main()

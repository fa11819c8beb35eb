"""A chart's spec drawn by the bundled Vega libraries in a real browser, under the server's
Content Security Policy (no inline script or style, no eval): no console error, an SVG drawn
with the chart's marks, and its tooltip shown on hover."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.web.browser.chromium import CHROMIUM, CHROMIUM_ARGS

from valuegap.charts import bundle, specs
from valuegap.outcomes.coverage import CoverageMonth, CoverageTrend
from valuegap.outcomes.results import Period

CSP = "default-src 'self'; frame-ancestors 'none'"
# What a page's own script does: every div.chart drawn from its data-spec.
PAGE_SCRIPT = """
const options = JSON.parse(document.body.dataset.embed);
document.querySelectorAll("div.chart").forEach((el) => {
  vegaEmbed(el, JSON.parse(el.dataset.spec), options)
    .then(() => { el.dataset.drawn = "yes"; })
    .catch((error) => { console.error(String(error)); });
});
"""

pytestmark = pytest.mark.slow


def trend() -> CoverageTrend:
    months = [
        CoverageMonth("2026-01", 0.25, Decimal("1000"), Decimal("250")),
        CoverageMonth("2026-02", 0.5, Decimal("1000"), Decimal("500")),
        CoverageMonth("2026-03", None, Decimal("0"), Decimal("0")),
    ]
    return CoverageTrend(Period(), "USD", months, 0.25, 0.5, 0.25)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    spec = json.dumps(specs.coverage_trend_chart(trend()))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>chart</title>"
        "<script src='/vega.js'></script></head>"
        f"<body data-embed='{html.escape(json.dumps(bundle.EMBED_OPTIONS))}'>"
        f"<div class='chart' data-spec='{html.escape(spec)}'></div>"
        "<script src='/page.js'></script></body></html>"
    )
    files = {
        "/": ("text/html", page.encode()),
        "/vega.js": ("text/javascript", bundle.javascript().encode()),
        "/page.js": ("text/javascript", PAGE_SCRIPT.encode()),
        "/favicon.ico": ("image/x-icon", b""),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = files.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", CSP)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_a_chart_is_drawn_under_the_csp_without_console_errors(server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server)
        page.wait_for_selector("div.chart[data-drawn='yes'] svg", timeout=15_000)
        # two months with a figure: two points, on a line
        points = page.locator("div.chart svg g.mark-symbol path").count()
        lines = page.locator("div.chart svg g.mark-line path").count()
        title = page.locator("div.chart svg").text_content() or ""
        page.locator("div.chart svg g.mark-symbol path").first.hover(force=True)
        page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
        tooltip = page.locator("#vg-tooltip-element").text_content() or ""
        browser.close()
    assert errors == []
    assert points == 2
    assert lines == 1
    assert "Attribution coverage by month" in title
    assert "25.0%" in tooltip  # the first month's coverage, as a table shows it

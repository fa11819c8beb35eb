"""The dashboard in a real browser: a copy of the demo served by Uvicorn at 127.0.0.1 on a free
port, and Debian's ``chromium`` driven by Playwright (``playwright install`` cannot download
browsers everywhere, so the system's browser is used).

Every page a test opens is screenshotted into ``test-artifacts/screenshots/`` (not committed),
and a test fails on any console error or page error (a Content-Security-Policy violation is
one) and on any request to a host other than 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.web.conftest import ADMIN, PEOPLE

PASSWORD = "a-long-enough-password"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCAL_SCHEMES = {"data", "blob", "about"}


@dataclass
class LiveServer:
    """The demo served over HTTP; ``ledger`` is the same open ledger the server uses (acting
    as the admin), for a test to read the reports the pages should show."""

    url: str
    ledger: Any


def _free_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


@contextmanager
def _serving(demo: Path, folder: Path) -> Iterator[LiveServer]:
    """A copy of the demo in ``folder``, served by Uvicorn in a thread until the block ends;
    each demo person (and the admin) has the password ``PASSWORD``."""
    import uvicorn

    from valuegap.ledger import Ledger
    from valuegap.settings import Settings
    from valuegap.web.app import create_app

    path = folder / "demo.duckdb"
    shutil.copy(demo, path)
    ledger = Ledger.open(path, actor=ADMIN, settings=Settings(db=path))
    for name in (ADMIN, *PEOPLE):
        ledger.governance.credentials.set_password(name, PASSWORD)
    listener = _free_socket()
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(ledger), log_level="warning", server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The test server did not start.")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", ledger)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
        ledger.close()


@pytest.fixture(scope="session")
def live_server(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo, served for the whole session: tests read it and never change it."""
    with _serving(demo, tmp_path_factory.mktemp("browser-demo")) as served:
        yield served


@pytest.fixture
def own_server(demo: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A copy of the demo served for one test, which may change it (``browse(..., own_server)``)."""
    with _serving(demo, tmp_path) as served:
        yield served


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium under Playwright. In CI (the variable CI set) a missing browser fails
    the tests; elsewhere it skips them."""
    if not CHROMIUM.exists():
        message = f"The browser tests need Debian's chromium at {CHROMIUM} (package chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Browsing:
    """One signed-in browser tab and what it saw: console and page errors, and every
    request's URL."""

    page: Any
    server: LiveServer
    name: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    shots: int = 0

    def open(self, path: str) -> Any:
        """Open ``path``, wait until it and its charts are drawn, and screenshot it."""
        answer = self.page.goto(self.server.url + path)
        assert answer is not None and answer.ok, f"{path}: {answer and answer.status}"
        self.settle()
        self.screenshot(path)
        return self.page

    def settle(self) -> None:
        """Wait for the network to go quiet and for every chart place to hold its drawing."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every("
            "(c) => c.querySelector('svg') !== null)",
            timeout=15_000,
        )

    def screenshot(self, what: str) -> Path:
        self.shots += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", what).strip("-") or "root"
        target = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{slug}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def figures(self) -> dict[str, str]:
        """The page's headline numbers, by their ``data-testid``."""
        found: dict[str, str] = self.page.eval_on_selector_all(
            "[data-testid]",
            "(all) => Object.fromEntries(all.map((e) => [e.dataset.testid, e.textContent.trim()]))",
        )
        return found

    def api(self, path: str) -> Any:
        """A JSON answer of the API, asked in this browser session (its cookie)."""
        answer = self.page.request.get(self.server.url + path)
        assert answer.ok, f"{path}: {answer.status} {answer.text()}"
        return answer.json()

    def leaving(self) -> list[str]:
        """The requests that went anywhere but 127.0.0.1."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname != "127.0.0.1"
        ]


@pytest.fixture
def browse(
    chromium: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Browsing]]:
    """``browse(name, viewport=LAPTOP, server=live_server)``: a new browser tab signed in as
    the demo person ``name`` through the sign-in form. When the test ends each tab must have
    had no console error, no page error, and no request leaving 127.0.0.1."""
    opened: list[tuple[Any, Browsing]] = []
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")

    def signed_in(
        name: str, viewport: dict[str, int] = LAPTOP, server: LiveServer | None = None
    ) -> Browsing:
        server = server or live_server
        context = chromium.new_context(viewport=viewport)
        page = context.new_page()
        tab = Browsing(page, server, f"{test}-{name}-{viewport['width']}")
        opened.append((context, tab))
        page.on(
            "console",
            lambda message: (
                tab.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: tab.errors.append(f"page error: {error}"))
        page.on("request", lambda sent: tab.requests.append(sent.url))
        page.on(
            "response",
            lambda answer: (
                tab.errors.append(f"HTTP {answer.status}: {answer.url}")
                if answer.status >= 400
                else None
            ),
        )
        tab.open("/login?next=/portfolio")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/portfolio")
        tab.settle()
        tab.screenshot("portfolio")
        return tab

    yield signed_in
    for context, tab in opened:
        context.close()
        assert tab.errors == [], f"{tab.name}: {tab.errors}"
        assert tab.leaving() == [], f"{tab.name}: requests left 127.0.0.1: {tab.leaving()}"

"""Debian's chromium, as every browser test launches it (``playwright install`` cannot
download browsers everywhere, so the system's browser is used): headless, with nothing of
its own going out to the network."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

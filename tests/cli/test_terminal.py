"""The terminal's width and colour, found as Rich's Console finds them (cli/terminal.py)."""

from __future__ import annotations

import io
import itertools
import os

import pytest
from rich.console import Console

from valuegap.cli.terminal import width_and_color

SETTINGS = {
    "COLUMNS": [None, "", "57", "abc", "0"],
    "LINES": [None, "30"],
    "TERM": [None, "xterm-256color", "dumb", "UNKNOWN"],
    "FORCE_COLOR": [None, "", "1"],
    "NO_COLOR": [None, "", "1"],
    "TTY_COMPATIBLE": [None, "0", "1", "2"],
}


class Stdout(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def environments() -> list[dict[str, str]]:
    found = []
    for values in itertools.product(*SETTINGS.values()):
        pairs = zip(SETTINGS, values, strict=True)
        found.append({name: value for name, value in pairs if value is not None})
    return found


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("size", [None, 0, 132])
def test_it_finds_what_rich_finds(
    monkeypatch: pytest.MonkeyPatch, tty: bool, size: int | None
) -> None:
    def terminal_size(descriptor: int = 1) -> os.terminal_size:
        if size is None or descriptor == 0:  # stdin is never the terminal here
            raise OSError("not a terminal")
        return os.terminal_size((size, 40))

    monkeypatch.setattr(os, "get_terminal_size", terminal_size)
    monkeypatch.setattr("sys.stdout", Stdout(tty))
    for environ in environments():
        console = Console(_environ=environ)
        expected = (console.width, console.is_terminal and not console.no_color)
        assert width_and_color(environ) == expected, environ

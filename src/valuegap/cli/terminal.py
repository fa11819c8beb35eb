"""The terminal a command writes to: how wide it is and whether to colour it, found as Rich's
``Console`` finds them (its ``width``, and ``is_terminal and not no_color``), without importing
``rich.console``, which costs a list or a report about a thirtieth of its time.

Rich's rules, for a program run from a shell (not Jupyter, not IDLE): stdout is a terminal if
``TTY_COMPATIBLE`` is 1 (0: it is not), else if ``FORCE_COLOR`` is set (and not empty), else if
stdout says it is a tty. ``NO_COLOR`` (not empty) turns colour off. The width is ``COLUMNS``
when it is a number, else that of the first of stdin, stdout and stderr that is a terminal,
else 80; and 80 on a dumb terminal (``TERM`` dumb or unknown) unless both ``COLUMNS`` and
``LINES`` are set. (Rich takes one column less on the legacy Windows console, this does not.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def width_and_color(environ: Mapping[str, str] = os.environ) -> tuple[int, bool]:
    """stdout's width in columns, and whether to colour what is written to it."""
    terminal = _is_terminal(environ)
    color = terminal and environ.get("NO_COLOR", "") == ""
    columns, lines = environ.get("COLUMNS", ""), environ.get("LINES", "")
    if columns.isdigit() and lines.isdigit():
        return int(columns), color
    if terminal and environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return 80, color
    if columns.isdigit():
        return int(columns), color
    for descriptor in (0, 1, 2):
        try:
            return os.get_terminal_size(descriptor).columns or 80, color
        except (AttributeError, ValueError, OSError):  # not a terminal
            continue
    return 80, color


def _is_terminal(environ: Mapping[str, str]) -> bool:
    tty_compatible = environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force_color = environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False

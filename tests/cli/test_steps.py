"""Long work (`valuegap demo`) shows its steps on stderr as it goes: one line a step when
stderr is not a terminal, a transient spinner when it is; the time taken last (issue 16)."""

from __future__ import annotations

import re

import pytest

from valuegap.cli.steps import steps


def test_steps_are_lines_on_stderr_when_it_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with steps("Building the demo") as step:
        step("portfolio")
        step("costs")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[:2] == ["Building the demo: portfolio…", "Building the demo: costs…"]
    assert re.fullmatch(r"Building the demo: done in \d+\.\d s", lines[2])


def test_on_a_terminal_the_steps_go_and_the_time_stays(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: stderr is a terminal
    monkeypatch.setenv("TERM", "xterm")
    with steps("Building the demo") as step:
        step("costs")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(r"Building the demo: done in \d+\.\d s\n$", captured.err)


def test_a_failed_step_shows_no_time(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), steps("Building the demo") as step:
        step("costs")
        raise RuntimeError("boom")
    assert "done in" not in capsys.readouterr().err

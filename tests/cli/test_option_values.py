"""Option values of a fixed form or from a fixed list are checked, and a refusal says what is
allowed: months are YYYY-MM, a period one of its forms, a window of months holds at least one,
and enumerated options name their values."""

from __future__ import annotations

import re

import pytest
from typer.testing import Result

from .conftest import Run

REPORTS = [("report", "costs"), ("report", "portfolio"), ("report", "scoreboard")]


def unwrapped(result: Result) -> str:
    """Standard error in one line, without the frame a usage error is drawn in."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", result.stderr)


@pytest.mark.parametrize("report", REPORTS, ids=" ".join)
def test_a_month_is_yyyy_mm_only(run: Run, report: tuple[str, str]) -> None:
    for flag in ("--from", "--to"):
        for given in ("2025-01-15", "2025-1", "2025-13", "2025", "March"):
            refused = run(*report, flag, given)
            assert refused.exit_code == 2
            assert f"'{given}' is not a month: give YYYY-MM, such as 2025-03" in unwrapped(refused)


@pytest.mark.parametrize("report", REPORTS, ids=" ".join)
@pytest.mark.parametrize(
    ("start", "end", "after"),
    [("2025-06", "2025-03", "2025-07"), ("2025-03", "2025-03", "2025-04")],
)
def test_a_window_without_a_month_is_refused(
    run: Run, report: tuple[str, str], start: str, end: str, after: str
) -> None:
    refused = run(*report, "--from", start, "--to", end)
    assert refused.exit_code == 1
    assert f"From {start} to {end} holds no month: --to is the month after the last." in (
        refused.stderr
    )
    assert f"  - --to: must come after --from; for {start} alone it is {after}" in refused.stderr
    assert f"(found '{end}')" in refused.stderr


def test_a_window_of_months_is_accepted(run: Run) -> None:
    assert run("report", "costs", "--from", "2025-03", "--to", "2025-04").exit_code == 0


@pytest.mark.parametrize("given", ["2026-Q5", "2026-H3", "2026-3", "26-Q1", "2026-03-01"])
def test_a_period_has_one_of_its_forms(run: Run, given: str) -> None:
    refused = run("report", "portfolio", "--period", given)
    assert refused.exit_code == 2
    said = unwrapped(refused)
    assert f"'{given}' is not a period: give a year, half, quarter or month" in said
    assert "2026, 2026-H1, 2026-Q1 or 2026-03" in said


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("initiative", "list", "--stage", "bogus"),
            "  - --stage: must be one of proposed, poc, mvp, production, scaled, retired "
            "(found 'bogus')",
        ),
        (("report", "costs", "--by", "colour"), "  - --by: must be one of month, initiative"),
        (
            ("approval", "list", "--status", "bogus"),
            "  - --status: must be one of pending, approved, rejected, withdrawn",
        ),
        (("report", "reconcile", "--tolerance", "-0.1"), "  - --tolerance: must be zero or more"),
        (
            ("policy", "show", "bogus"),
            "  - layer: must be one of enterprise, business_unit, initiative (found 'bogus')",
        ),
    ],
)
def test_an_enumerated_option_names_its_values(run: Run, args: tuple[str, ...], said: str) -> None:
    refused = run(*args)
    assert refused.exit_code == 1
    assert said in refused.stderr

"""The command line, hostile: files to ingest and apply, and numbers to price with. A command
ends with exit code 0, or 1 and `Error: ...` (2 for a usage error), never a traceback."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from valuegap.cli import app

from .conftest import ACTOR, DATA, FUZZ, Fresh, never_crashes, written
from .hostile import NUMBERS, hostile_csv, hostile_text, read_table
from .test_otel import span_files
from .test_policy_yaml import policy_files
from .test_portfolio_yaml import portfolio_files

FOCUS = read_table(DATA / "focus-1.2-minimal.csv")
COMMANDS = {
    "ingest focus": hostile_csv(FOCUS),
    "ingest usage --format otel": span_files(),
    "apply": portfolio_files(),
    "policy apply": policy_files(),
}
rates = st.one_of(st.sampled_from(NUMBERS), hostile_text)


def _ends_cleanly(args: list[str], what: str) -> None:
    """Run ``valuegap ARGS``: exit 0, or 1 saying ``Error:``, or 2 (a usage error)."""
    with never_crashes():
        result = CliRunner().invoke(app, args)
    code, output = result.exit_code, result.output
    assert "Traceback" not in output, f"{what} printed a traceback:\n{output}"
    exception = result.exception
    assert exception is None or isinstance(exception, SystemExit), (
        f"{what} raised {type(exception).__name__}: {exception}"
    )
    assert code in (0, 1, 2), f"{what} exited {code}:\n{output}"
    if code == 1:
        assert "Error:" in output, f"{what} failed without saying why:\n{output}"


@FUZZ
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data())
def test_a_command_given_a_hostile_file_ends_with_an_error_not_a_traceback(
    fresh_ledger: Fresh, command: str, data: st.DataObject
) -> None:
    file = data.draw(COMMANDS[command], label="file")
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        db = ledger.path
        ledger.close()  # the command opens the ledger itself
        args = [*command.split(), str(path), "--db", str(db), "--as", ACTOR]
        _ends_cleanly(args, f"valuegap {command} {path.name}")
        report = ["report", "portfolio", "--format", "json", "--db", str(db), "--as", ACTOR]
        _ends_cleanly(report, "valuegap report portfolio")


@FUZZ
@given(
    model=st.one_of(st.just("gpt-4o"), hostile_text),
    input_rate=rates,
    output_rate=rates,
    start=st.one_of(st.just("2025-01-01"), hostile_text),
)
def test_price_set_with_hostile_numbers_ends_with_an_error_not_a_traceback(
    fresh_ledger: Fresh, model: str, input_rate: str, output_rate: str, start: str
) -> None:
    with fresh_ledger() as (ledger, _):
        db = ledger.path
        ledger.close()
        args = ["price", "set", model, "--input-per-mtok", input_rate, "--output-per-mtok",
                output_rate, "--from", start, "--db", str(db), "--as", ACTOR]  # fmt: skip
        _ends_cleanly(args, f"valuegap price set {args[2:9]}")
        report = ["report", "costs", "--format", "json", "--db", str(db), "--as", ACTOR]
        _ends_cleanly(report, "valuegap report costs")

"""What the command line says reads as written: one row, two rows; a number as it was typed."""

from __future__ import annotations

from pathlib import Path

from .conftest import Run

ONE_CALL = "timestamp,model,provider,input_tokens,output_tokens\n"
ONE_CALL += "2025-03-02T09:00:00Z,no-such-model,openai,1000,10\n"


def test_one_of_a_thing_is_singular(run: Run, tmp_path: Path) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_text(ONE_CALL)
    ingested = run("ingest", "usage", str(usage))
    assert ingested.exit_code == 0, ingested.output
    assert "1 row in " in ingested.stderr
    report = run("report", "costs")
    assert "Note: these totals leave out 1 usage event without a price;" in report.stderr
    price = "no-such-model --provider openai --input-per-mtok 1 --output-per-mtok 2"
    priced = run("price", "set", *price.split(), "--from", "2025-01-01")
    assert priced.stdout.endswith("; 1 call repriced.\n")
    assert "Cost aggregates rebuilt: " in run("admin", "rebuild").stdout
    removed = run("remove", "usage", str(usage), "--reason", "a test", "--dry-run")
    assert removed.stdout.startswith("1 row of usage_events would be removed (dry run)")
    refused = run("initiative", "add", "a", "--name", "A", "--business-unit", "x", "--kind", "z")
    assert "The initiative was not added. 1 problem:" in refused.stderr


def test_a_number_in_an_error_is_shown_as_typed(run: Run) -> None:
    price = "gpt-4o --input-per-mtok -2 --output-per-mtok 1 --from 2025-01-01"
    refused = run("price", "set", *price.split())
    assert "(found -2)" in refused.stderr and "Decimal" not in refused.stderr


def test_a_missing_file_is_named_as_missing(run: Run, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    for command in (
        "ingest focus",
        "ingest usage",
        "ingest costs",
        "ingest rates",
        "ingest observations",
        "remove usage --reason r",
        "rules apply",
        "apply",
        "policy apply",
    ):
        refused = run(*command.split(), missing)
        assert refused.exit_code == 1, command
        assert f"  - {missing}: no such file" in refused.stderr, command
        assert "(file)" not in refused.stderr

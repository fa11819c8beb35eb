"""The acceptance flows of the portfolio core, through the command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from .conftest import Run

PORTFOLIO_FIELDS = {
    "id", "name", "kind", "business_unit", "owner", "sponsor", "risk_tier", "hypothesis",
    "kill_criteria", "business_case", "poc_evaluation", "production_cost_estimate",
    "human_in_the_loop", "fallback", "agent", "metrics", "stage",
}  # fmt: skip
METRIC_FIELDS = {
    "id", "name", "unit", "direction", "baseline", "target", "value_per_unit", "currency",
    "volume_basis", "method", "primary", "agreed_by", "agreed_at",
}  # fmt: skip


def _json(run: Run, *args: str) -> object:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_lists_the_command_groups_without_loading_the_store() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from valuegap.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); print(r.stdout); "
        "print('LOADED', [m for m in ('duckdb', 'ibis', 'pyarrow') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    for group in ("init", "apply", "export", "initiative", "metric", "control", "user", "audit",
                  "demo"):  # fmt: skip
        assert f" {group} " in out
    assert "LOADED []" in out


def test_apply_list_reapply_export(run: Run, example_portfolio: Path, tmp_path: Path) -> None:
    applied = _json(run, "apply", str(example_portfolio))
    assert len(applied["create"]) == 7 and applied["update"] == []

    initiatives = _json(run, "initiative", "list")
    assert [i["id"] for i in initiatives] == ["doc-classifier", "loc-qa", "refund-agent"]
    assert all(set(i) == PORTFOLIO_FIELDS for i in initiatives)
    loc_qa = initiatives[1]
    assert loc_qa["stage"] == "proposed"
    assert loc_qa["kill_criteria"] == ["roi < 0 && months_live >= 6", "accuracy < 0.8"]
    hours = loc_qa["metrics"][1]
    assert set(hours) == METRIC_FIELDS
    assert hours["value_per_unit"] == "85"  # money as a decimal string
    assert hours["baseline"] == {"value": "300", "period": "2024-H2", "source": "Timesheets"}
    assert (hours["agreed_by"], hours["agreed_at"]) == ("Finn Berg (Finance)", "2025-01-16")

    entries = len(_json(run, "audit", "log"))
    again = run("apply", str(example_portfolio))
    assert again.exit_code == 0
    assert "0 created, 0 updated, 7 left unchanged" in again.stdout
    assert len(_json(run, "audit", "log")) == entries

    exported = tmp_path / "export.yaml"
    assert run("export", "--output", str(exported)).exit_code == 0
    round_trip = _json(run, "apply", str(exported))
    assert round_trip["create"] == round_trip["update"] == []
    assert len(_json(run, "audit", "log")) == entries


def test_invalid_file_is_refused_whole(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "initiatives:\n"
        "  - id: good\n    name: Good\n    kind: use_case\n    business_unit: ops\n"
        "  - name: No id\n    kind: use_case\n    business_unit: ops\n"
        "    metrics:\n"
        "      - {id: m, name: M, unit: h, direction: sideways, target: lots}\n"
    )
    result = run("apply", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad} was refused; nothing was applied.")
    assert "initiatives[1].id: is required but missing" in result.stderr
    assert "initiatives[1].metrics[0] (m).direction: Input should be 'increase' or 'decrease'" \
        " (found 'sideways')" in result.stderr  # fmt: skip
    assert "initiatives[1].metrics[0] (m).target: must be a number (found 'lots')" in result.stderr
    assert _json(run, "initiative", "list") == []
    # only the ledger's creation and its default policies
    assert [e["action"] for e in _json(run, "audit", "log")] == ["policy.apply", "ledger.init"]


def test_editing_an_audit_row_fails_verify_naming_it(run: Run, db_path: Path,
                                                     example_portfolio: Path) -> None:  # fmt: skip
    run("apply", str(example_portfolio))
    assert run("audit", "verify").exit_code == 0
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE audit_log SET after = replace(after, '85', '58') WHERE seq = 5")
    con.close()
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert "entry 5 was edited" in result.stderr


def test_stage_and_control_commands(run: Run, example_portfolio: Path) -> None:
    run("apply", str(example_portfolio))
    assert run("initiative", "advance", "loc-qa", "--to", "poc").exit_code == 0
    refused = run("initiative", "advance", "loc-qa", "--to", "scaled")
    assert refused.exit_code == 1 and "stages advance one at a time" in refused.stderr
    attested = run("control", "attest", "loc-qa", "sops_updated", "--evidence", "SOP v2")
    assert attested.exit_code == 0
    shown = _json(run, "initiative", "show", "loc-qa")
    assert shown["stage"] == "poc"
    assert shown["controls"]["sops_updated"]["evidence"] == "SOP v2"
    assert [h["to_stage"] for h in shown["stage_history"]] == ["proposed", "poc"]
    retired = run("initiative", "retire", "loc-qa", "--reason", "r", "--learnings", "l")
    assert retired.exit_code == 0


def test_metric_commands_and_finance_role(run: Run) -> None:
    run("initiative", "add", "a", "--name", "A", "--business-unit", "ops", "--owner", "Olu")
    defined = run(
        "metric", "define", "a", "hours", "--name", "Hours", "--unit", "h/week",
        "--direction", "decrease", "--baseline", "40", "--baseline-period", "2025-Q1",
        "--value-per-unit", "62.50", "--currency", "USD", "--method", "before_after",
    )  # fmt: skip
    assert defined.exit_code == 0, defined.output
    run("user", "add", "gina", "--role", "governance")
    run("user", "add", "finn", "--role", "finance")
    denied = run("metric", "agree", "hours", "--by", "Gina", actor="gina")
    assert denied.exit_code == 1 and "needs the role finance or admin" in denied.stderr
    agreed = run("metric", "agree", "hours", "--by", "Finn", "--at", "2025-03-01", actor="finn")
    assert agreed.exit_code == 0
    [metric] = _json(run, "metric", "list")
    assert (metric["initiative"], metric["value_per_unit"]) == ("a", "62.5")
    assert (metric["agreed_by"], metric["agreed_at"]) == ("Finn", "2025-03-01")
    # a baseline source without the baseline itself is a mistake, not something to drop
    sourced = run("metric", "define", "a", "errors", "--name", "Errors", "--unit", "errors",
                  "--direction", "decrease", "--baseline-source", "Tracker")  # fmt: skip
    assert sourced.exit_code == 1 and "baseline" in sourced.stderr


def test_business_unit_is_spelled_out_and_unit_is_a_unit_of_measure(run: Run) -> None:
    added = run("initiative", "add", "a", "--name", "A", "--business-unit", "ops")
    assert added.exit_code == 0, added.output
    assert [i["id"] for i in _json(run, "initiative", "list", "--business-unit", "ops")] == ["a"]
    assert _json(run, "initiative", "list", "--business-unit", "sales") == []
    user = run("user", "add", "carla", "--role", "contributor", "--business-unit", "ops")
    assert user.stdout == "carla is contributor in ops.\n"
    for old in (
        ("initiative", "add", "b", "--name", "B", "--unit", "ops"),
        ("initiative", "list", "--unit", "ops"),
        ("user", "add", "dora", "--role", "contributor", "--unit", "ops"),
    ):
        assert run(*old).exit_code == 2  # no such option
    unscoped = run("user", "add", "dora", "--role", "contributor")
    assert "  - --business-unit: a contributor is scoped to business units" in unscoped.stderr
    measured = run("metric", "define", "a", "hours", "--name", "Hours", "--unit", "h/week",
                   "--direction", "decrease")  # fmt: skip
    assert measured.exit_code == 0, measured.output


def test_csv_output_has_every_field(run: Run, example_portfolio: Path) -> None:
    run("apply", str(example_portfolio))
    result = run("initiative", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["doc-classifier", "loc-qa", "refund-agent"]
    assert set(rows[0]) == PORTFOLIO_FIELDS


def test_usage_errors_exit_2_and_user_errors_exit_1(run: Run) -> None:
    assert run("initiative", "list", "--format", "xml").exit_code == 2
    assert run("metric", "agree", "m", "--by", "F", "--at", "yesterday").exit_code == 2
    missing = run("initiative", "show", "nope")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: There is no initiative 'nope'")


def test_debug_shows_the_traceback(run: Run) -> None:
    result = run("initiative", "show", "nope", "--debug")
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "NotFound"


def test_unregistered_user_is_told_what_to_do(run: Run) -> None:
    result = run("initiative", "list", actor="mallory")
    assert result.exit_code == 1
    assert "valuegap user add mallory" in result.stderr


def test_missing_ledger(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from valuegap.cli import app

    result = CliRunner().invoke(app, ["initiative", "list", "--db", str(tmp_path / "no.duckdb")])
    assert result.exit_code == 1
    assert "valuegap init" in result.stderr

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.demo import AGENT_ACCOUNTS, PEOPLE, build_demo
from valuegap.errors import ConfigError
from valuegap.outcomes.periods import parse_period
from valuegap.settings import Settings


def test_demo_covers_every_stage_and_four_business_units(demo: Path) -> None:
    with Ledger.open(demo, actor="you") as ledger:
        initiatives = {i.id: i for i in ledger.portfolio.initiatives()}
        assert {i.stage for i in initiatives.values()} == {
            "proposed", "poc", "mvp", "production", "scaled", "retired",
        }  # fmt: skip
        assert len({i.business_unit for i in initiatives.values()}) >= 4
        assert {i.kind for i in initiatives.values()} == {"use_case", "workflow", "agent"}
        assert ledger.governance.audit.verify_audit().ok


def test_demo_holds_the_fields_examples(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board") as ledger:
        metrics = {m.id: m for _, m in ledger.portfolio.metrics()}
        assert metrics["loc-qa-errors"].baseline.value == 150  # type: ignore[union-attr]
        assert metrics["loc-qa-hours"].baseline.value == 300  # type: ignore[union-attr]
        review = metrics["doc-review-hours"]
        assert (review.baseline.value, review.target) == (40, 8)  # type: ignore[union-attr]
        assert metrics["recs-order-value"].value_per_unit == Decimal("3.50")
        killed = ledger.governance.initiative_detail("meeting-summariser")
        assert killed.initiative.stage == "retired"
        assert killed.stage_history[-1].learnings
        assert ledger.portfolio.initiative("emotion-monitoring").stage == "proposed"
        production = ledger.governance.initiative_detail("loc-qa")
        assert all(c.attested for c in production.controls.values())
        assert {u.name for u in ledger.governance.users.users()} == {
            "you",
            *PEOPLE,
            *AGENT_ACCOUNTS,
        }


def test_demo_is_deterministic_and_rebuilds_its_own_file(demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "again.duckdb"
    build_demo(Settings(db=other), actor="you")
    steps: list[str] = []
    build_demo(Settings(db=other), actor="you", progress=steps.append)  # replaces the earlier
    assert steps == [
        "people and portfolio",
        "costs: 18 months of cloud bills and currency rates",
        "costs: LLM usage",
        "costs: allocation rules; people, data, operations",
        "outcomes: a year of measurements",
        "governance: the year's gates, reviews and approvals",
        "scenarios",
        "adoption: the org chart, several hundred people, surveys",
    ]
    with Ledger.open(demo, actor="you") as a, Ledger.open(other, actor="you") as b:
        assert a.portfolio.export() == b.portfolio.export()
        assert [e.hash for e in a.governance.audit.audit_log()] == [
            e.hash for e in b.governance.audit.audit_log()
        ]


def test_the_demo_is_not_built_as_one_of_its_people(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"finn\.berg is one of the demo.s people"):
        build_demo(Settings(db=tmp_path / "demo.duckdb"), actor="finn.berg")
    assert not (tmp_path / "demo.duckdb").exists()


def test_demo_never_replaces_a_real_ledger(tmp_path: Path) -> None:
    path = tmp_path / "real.duckdb"
    Ledger.init(path, actor="you").close()
    with pytest.raises(ConfigError, match="not a demo ledger"):
        build_demo(Settings(db=path), actor="you")
    with Ledger.open(path, actor="you") as ledger:
        assert (
            ledger.governance.audit.verify_audit().entries == 2
        )  # its creation and the default policies


def test_demo_has_eighteen_months_of_cost_some_unallocated(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board") as ledger:
        months = {r.month for r in ledger.costs.cost_report(["month"])}
        assert len(months) == 18 and min(months) == "2025-01" and max(months) == "2026-06"
        by_initiative = {r.initiative: r.cost for r in ledger.costs.cost_report(["initiative"])}
        assert by_initiative["(unallocated)"] > 0
        assert {"loc-qa", "fraud-detection", "code-review", "refund-agent"} <= set(by_initiative)
        categories = {r.category for r in ledger.costs.cost_report(["category"])}
        assert categories == {"infrastructure", "development", "data", "operations",
                              "opportunity"}  # fmt: skip
        providers = {r.provider for r in ledger.costs.cost_report(["provider"])}
        # OpenAI's usage shows under its invoice's provider name
        assert {"AWS", "OpenAI", "anthropic", "gcp.gemini"} <= providers
        assert "openai" not in providers
        gaps = [r for r in ledger.costs.reconcile() if r.status == "gap"]
        assert [(r.provider, r.month) for r in gaps] == [("openai", "2026-03")]


def test_demo_outcomes_show_every_state_and_the_reasons(demo: Path) -> None:
    with Ledger.open(demo, actor="exec.board") as ledger:
        report = ledger.outcomes.portfolio_report()
        rows = {r.id: r for r in report.initiatives}
        assert {r.state for r in rows.values()} == {"validated", "not_validated", "killed"}
        assert report.attribution_coverage is not None and 0 < report.attribution_coverage < 1
        methods = {
            m.method
            for i in ledger.portfolio.initiatives()
            for m in i.metrics
            if rows[i.id].validated
        }
        assert {"direct", "before_after", "ab_test", "diff_in_diff"} <= methods
        assert "includes zero" in rows["code-review"].validation_reason
        summariser = ledger.outcomes.initiative_report("meeting-summariser")
        assert "not agreed in advance" in summariser.metrics[0].validation_reason
        code_review = ledger.outcomes.initiative_report("code-review")
        assert code_review.behaviour is not None and code_review.behaviour.override_rate == 0.9
        loc_qa = ledger.outcomes.initiative_report("loc-qa")
        accuracy = loc_qa.quality[0]
        assert (accuracy.reference, accuracy.latest, accuracy.drifted) == (
            0.95,
            0.72,
            True,
        )
        capacity = ledger.outcomes.initiative_report("doc-classifier").capacity
        assert capacity is not None and 0 < capacity.not_captured < capacity.hours_saved


def test_demo_governance_has_layers_an_approval_a_denial_a_kill_and_an_agent(demo: Path) -> None:
    from valuegap.outcomes.periods import parse_period

    with Ledger.open(demo, actor="exec.board") as ledger:
        assert {p.layer for p in ledger.governance.policies()} == {
            "enterprise",
            "business_unit",
            "initiative",
        }
        [pending] = ledger.governance.gates.approvals("pending")
        assert (pending.initiative, pending.to_stage, pending.rules) == (
            "fraud-detection", "mvp", ["risk-high-tier-mvp-approval"],
        )  # fmt: skip
        log = ledger.governance.audit.audit_log()
        denied = [e for e in log if e.action == "initiative.advance.deny"]
        assert [e.entity_id for e in denied] == ["code-review"]
        assert "mvp-representative-data" in (denied[0].after or "")

        [review] = [r for r in ledger.governance.reviews() if r.recommendation == "kill"]
        assert review.initiative == "meeting-summariser"
        assert review.reasons[0].startswith("Kill criterion `!validated && months_in_stage")
        retired = ledger.governance.initiative_detail("meeting-summariser").stage_history[-1]
        assert retired.moved_at.date() > review.as_of
        board = ledger.outcomes.scoreboard(parse_period("2025-Q3"))
        assert "meeting-summariser" in board.overall.laggards_retired

        agent = ledger.portfolio.initiative("refund-agent").agent
        assert agent is not None and agent.approval_threshold == 200
        decisions = [e for e in log if e.action == "agent.authorize"]
        said = sorted(json.loads(e.after or "{}")["decision"] for e in decisions)
        assert said == ["allow", "allow", "deny", "needs_approval"]
        assert ledger.portfolio.initiative("doc-classifier").stage == "scaled"
        assert ledger.governance.audit.verify_audit().ok


def test_review_run_on_the_demo_lists_what_is_due_with_reasons(demo: Path, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from valuegap.cli import app

    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo, copy)
    result = CliRunner().invoke(app, ["review", "run", "--as-of", "2026-07-01", "--db", str(copy),
                                      "--as", "grace.okafor", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    said = {r["initiative"]: r for r in json.loads(result.stdout)}
    assert said["loc-qa"]["recommendation"] == "kill"
    assert said["loc-qa"]["reasons"] == ["Kill criterion `accuracy < 0.8` holds (accuracy = 0.72)."]
    assert {r["recommendation"] for r in said.values()} <= {"scale", "continue", "fix", "kill"}
    assert all(r["reasons"] for r in said.values())


def test_the_demo_values_are_the_ones_worked_out_by_hand(demo: Path) -> None:
    # docs/outcomes.md, "The demo's values, 2026-Q1, by hand"
    by_hand = {
        "loc-qa": Decimal(150 * 12 * 85),
        "doc-classifier": (Decimal("31.6") * 78 * 62 * 2040 / 2496).quantize(Decimal("0.01")),
        "fraud-detection": Decimal(9000 * 48),
        "product-recs": Decimal("0.14") * 450_000 * Decimal("3.5"),
        "refund-agent": Decimal(33_000) * Decimal("4.2"),
        "code-review": Decimal("1.2") * 1200 * 45,
    }
    with Ledger.open(demo, actor="exec.board") as ledger:
        rows = ledger.outcomes.portfolio_report(parse_period("2026-Q1")).initiatives
    assert {r.id: r.value for r in rows if r.id in by_hand} == by_hand


def test_demo_replaces_a_changed_demo_ledger_only_when_told_by_its_admin(
    demo: Path, tmp_path: Path
) -> None:
    import shutil

    from valuegap.errors import PermissionDenied

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo, path)
    with Ledger.open(path, actor="you") as ledger:
        ledger.governance.users.add_user("zoe", "viewer")  # a change after the demo was built
    with pytest.raises(ConfigError, match="has changed since the demo built it"):
        build_demo(Settings(db=path), actor="you")
    with pytest.raises(PermissionDenied, match="mallory is not an admin"):
        build_demo(Settings(db=path), actor="mallory", replace=True)
    with Ledger.open(path, actor="you") as ledger:
        assert "zoe" in {u.name for u in ledger.governance.users.users()}  # nothing was lost
    build_demo(Settings(db=path), actor="you", replace=True)
    with Ledger.open(path, actor="you") as ledger:
        assert "zoe" not in {u.name for u in ledger.governance.users.users()}

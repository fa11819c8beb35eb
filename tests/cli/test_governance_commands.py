"""``valuegap policy | gate | approval | review | agent`` and the gated ``initiative advance``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from valuegap.model.vocabulary import CONTROLS
from valuegap.yamlio import dump_yaml

from ..conftest import ready
from .conftest import Run


def _json(run: Run, *args: str, actor: str = "alice") -> Any:
    result = run(*args, "--format", "json", actor=actor)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _portfolio(tmp_path: Path, *initiatives: dict[str, Any]) -> str:
    path = tmp_path / "portfolio.yaml"
    path.write_text(dump_yaml({"initiatives": list(initiatives)}))
    return str(path)


def test_policy_apply_refuses_a_bad_file_whole(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "layer: enterprise\nscope: null\nrules:\n"
        "  - id: broken\n    when: {transition: '*'}\n    expr: 'initiative.stage =='\n"
        "    effect: deny\n    message: m\n"
        "  - id: typo\n    when: {transition: '*'}\n    expr: initiative.ownr != null\n"
        "    effect: deny\n    message: m\n"
        "  - id: lenient\n    when: {action: '*'}\n    expr: 'true'\n    effect: allow\n"
        "    message: m\n"
    )
    result = run("policy", "apply", str(bad))
    assert result.exit_code == 1
    assert f"{bad}, line 4, rules[0] (broken).expr: syntax error at 1:20" in result.stderr
    assert f"{bad}, line 9, rules[1] (typo).expr at 1:12: initiative has no field 'ownr'" in (
        result.stderr
    )
    assert f"{bad}, line 14, rules[2] (lenient).effect: is not an effect" in result.stderr
    [policy] = _json(run, "policy", "list")
    assert (policy["layer"], policy["version"], len(policy["rules"])) == ("enterprise", 1, 29)


def test_export_then_apply_changes_nothing_and_show_lists_versions(
    run: Run, tmp_path: Path
) -> None:
    exported = run("policy", "export", "enterprise")
    assert exported.exit_code == 0
    path = tmp_path / "enterprise.yaml"
    path.write_text(exported.stdout)
    applied = run("policy", "apply", str(path))
    assert applied.stdout == "Policy enterprise is unchanged (version 1 is in force).\n"
    rules = _json(run, "policy", "show", "enterprise")
    assert rules[0]["id"] == "poc-success-metric" and rules[0]["when"] == "transition proposed->poc"
    missing = run("policy", "show", "business_unit", "ops")
    assert missing.exit_code == 1 and "No policy for business_unit ops" in missing.stderr


def test_advance_denied_then_waiting_then_approved(run: Run, tmp_path: Path) -> None:
    run("apply", _portfolio(tmp_path, ready("a", risk_tier="high")))
    assert run("initiative", "advance", "a", "--to", "poc").exit_code == 0
    assert run("initiative", "advance", "a", "--to", "mvp").exit_code == 0

    denied = run("initiative", "advance", "a", "--to", "production")
    assert denied.exit_code == 1
    assert "the gate denies it" in denied.stderr
    assert "control-role-based-training: Attest role-based training" in denied.stderr
    assert "production-method-agreed" in denied.stderr

    checked = _json(run, "gate", "check", "a", "--to", "production")
    assert checked["decision"] == "deny" and len(checked["rules"]) == 6
    assert [rule["id"] for rule in checked["details"]] == checked["rules"]
    assert (checked["initiative"], checked["to_stage"]) == ("a", "production")
    # the approval the move would need once the denying rules hold is named too
    [approval] = checked["approval_rules"]
    assert (approval["id"], approval["effect"]) == (
        "production-high-risk-approval",
        "require_approval",
    )
    table = run("gate", "check", "a", "--to", "production").stdout
    assert "Approvals it would also need, once the rules above hold" in table
    assert "production-high-risk-approval" in table

    for control in CONTROLS:
        run("control", "attest", "a", control, "--evidence", "Wiki page")
    run("metric", "agree", "a-hours", "--by", "Finn")
    waiting = run("initiative", "advance", "a", "--to", "production")
    assert waiting.exit_code == 0
    assert waiting.stdout.startswith("a waits for approval 1 to move to production:\n"
                                     "  - production-high-risk-approval:")  # fmt: skip
    [request] = _json(run, "approval", "list")
    assert {k: request[k] for k in ("id", "initiative", "to_stage", "status", "rules")} == {
        "id": 1, "initiative": "a", "to_stage": "production", "status": "pending",
        "rules": ["production-high-risk-approval"],
    }  # fmt: skip
    run("user", "add", "gina", "--role", "governance")
    approved = run("approval", "approve", "1", "--note", "Reviewed", actor="gina")
    assert approved.exit_code == 0, approved.output
    assert approved.stdout == "Approval 1 granted: a mvp -> production.\n"
    assert _json(run, "initiative", "show", "a")["stage"] == "production"
    assert run("audit", "verify").exit_code == 0


def test_agent_register_and_authorize(run: Run, tmp_path: Path) -> None:
    run("apply", _portfolio(tmp_path, ready("bot", kind="agent")))
    registered = run("agent", "register", "bot", "--objective", "Answer refund tickets",
                     "--allowed-actions", "issue_refund,send_reply", "--autonomy", "autonomous",
                     "--approval-threshold", "200")  # fmt: skip
    assert registered.exit_code == 0, registered.output
    run("initiative", "advance", "bot", "--to", "poc")
    run("initiative", "advance", "bot", "--to", "mvp")
    [agent] = _json(run, "agent", "list")
    assert (agent["approval_threshold"], agent["currency"]) == ("200", "USD")

    def decide(*args: str) -> dict[str, Any]:
        result = run("agent", "authorize", "bot", *args, "--format", "json")
        assert result.exit_code == 0, result.output  # a decision was made, whatever it is
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    above = decide("issue_refund", "--amount", "250", "--context", "order_id=A-1")
    assert (above["decision"], above["rules"]) == ("needs_approval", ["agent-approval-threshold"])
    outside = decide("delete_account")
    assert (outside["decision"], outside["rules"]) == ("deny", ["agent-allowed-action"])
    inside = decide("send_reply")
    assert inside["decision"] == "allow"
    log = _json(run, "audit", "log", "--limit", "3")
    assert [e["action"] for e in log] == ["agent.authorize"] * 3
    assert run("audit", "verify").exit_code == 0
    bad = run("agent", "authorize", "bot", "send_reply", "--context", "no-equals-sign")
    assert bad.exit_code == 2


def test_review_run_lists_what_is_due_and_refuses_the_future(run: Run, tmp_path: Path) -> None:
    run("apply", _portfolio(tmp_path, ready("a")))
    run("initiative", "advance", "a", "--to", "poc")
    run("initiative", "advance", "a", "--to", "mvp")
    none = run("review", "run", "--as-of", "2000-01-01")
    assert none.exit_code == 0 and "Reviews due: none." in none.stdout
    ahead = run("review", "run", "--as-of", "2100-01-01")
    assert ahead.exit_code == 1 and "A review is not run ahead of time" in ahead.stderr

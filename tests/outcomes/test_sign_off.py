"""Sign-off time is the ledger's time: "agreed in advance" is judged by when the agreement was
recorded, whatever date the sign-off claims, and only finance agrees a method, by any path."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from valuegap import Ledger
from valuegap.errors import PermissionDenied, ValidationError
from valuegap.outcomes.periods import parse_period

from ..conftest import SteppingClock

EXAMPLES = Path(__file__).parents[2] / "examples"


def _late(ledger: Ledger, tmp_path: Path) -> None:
    """Metric ``late`` (before/after, not agreed) and a year of monthly observations of 2025,
    loaded on 5 January 2026 (the clock's day)."""
    ledger.portfolio.add_initiative({
        "id": "late-qa", "name": "Late QA", "kind": "use_case", "business_unit": "ops",
        "metrics": [{"id": "late", "name": "QA hours", "unit": "hours", "direction": "decrease",
                     "baseline": {"value": 300, "period": "2024-H2"}, "value_per_unit": 85,
                     "currency": "USD", "method": "before_after"}],
    })  # fmt: skip
    rows = ["metric,period_start,period_end,group,phase,n,mean,sd",
            "late,2024-07-01,2025-01-01,all,before,120,300,20"]  # fmt: skip
    for month in range(1, 13):
        end = f"{2025 + month // 12}-{month % 12 + 1:02d}-01"
        rows.append(f"late,2025-{month:02d}-01,{end},all,after,20,150,20")
    path = tmp_path / "observations.csv"
    path.write_text("\n".join(rows) + "\n")
    ledger.outcomes.ingest_measures("observations", path)


def test_a_backdated_sign_off_validates_nothing(ledger: Ledger, tmp_path: Path) -> None:
    _late(ledger, tmp_path)
    ledger.governance.users.add_user("fin", "finance")
    fin = ledger.acting_as("fin")
    fin.portfolio.agree_metric("late", by="Fin", at=date(2024, 6, 1))  # a paper sign-off, it says
    report = ledger.outcomes.initiative_report("late-qa", parse_period("2025"))
    [metric] = report.metrics
    assert metric.validated is False
    reasons = metric.validation_reason
    assert (
        "the method's agreement was recorded on 2026-01-05 (the sign-off is dated 2024-06-01)"
        in reasons
    )
    # the audit log holds both: the date claimed, and when it was recorded
    [entry] = ledger.governance.audit.audit_log(limit=1)
    assert entry.action == "metric.agree"
    assert entry.recorded_at.date() == date(2026, 1, 5)
    assert '"agreed_at":"2024-06-01"' in (entry.after or "")


def test_a_sign_off_dated_ahead_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    _late(ledger, tmp_path)
    with pytest.raises(ValidationError) as refused:
        ledger.portfolio.agree_metric("late", by="Fin", at=date(2030, 1, 1))
    assert [p.where for p in refused.value.problems] == ["at"]
    assert "is in the future" in str(refused.value.problems[0])
    assert ledger.portfolio.initiative("late-qa").metrics[0].agreed is False


def test_a_sign_off_recorded_before_a_period_validates_it(
    ledger: Ledger, tmp_path: Path, clock: SteppingClock
) -> None:
    _late(ledger, tmp_path)
    ledger.portfolio.agree_metric("late", by="Fin")  # recorded 5 January 2026
    path = tmp_path / "february.csv"
    path.write_text("metric,period_start,period_end,group,phase,n,mean,sd\n"
                    "late,2026-02-01,2026-03-01,all,after,20,150,20\n")  # fmt: skip
    ledger.outcomes.ingest_measures("observations", path)
    report = ledger.outcomes.initiative_report("late-qa", parse_period("2026-02"))
    assert report.metrics[0].validated is True
    assert (
        "method agreed in advance (recorded on 2026-01-05)" in report.metrics[0].validation_reason
    )


def _forged(folder: Path) -> Path:
    portfolio = yaml.safe_load((EXAMPLES / "portfolio.yaml").read_text())
    loc_qa = portfolio["initiatives"][0]
    loc_qa["metrics"].append({
        "id": "loc-qa-cycle", "name": "Cycle time", "unit": "days", "direction": "decrease",
        "method": "before_after", "agreed_by": "Fake Finance", "agreed_at": "2020-01-01",
    })  # fmt: skip
    path = folder / "forged.yaml"
    path.write_text(yaml.safe_dump(portfolio))
    return path


def test_a_contributor_cannot_forge_a_sign_off(ledger: Ledger, tmp_path: Path) -> None:
    ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
    ledger.governance.users.add_user("ana", "contributor", ["marketing"])
    with pytest.raises(PermissionDenied) as refused:
        ledger.acting_as("ana").portfolio.apply_file(_forged(tmp_path))
    assert str(refused.value).startswith("initiatives[0] (loc-qa).metrics[2].agreed_by: ana")
    assert "loc-qa-cycle" not in {m.id for m in ledger.portfolio.initiative("loc-qa").metrics}


def test_re_applying_a_file_keeps_the_sign_off(demo: Path, tmp_path: Path) -> None:
    # The README's order, on the demo: apply, agree, apply again.
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo, path)
    with Ledger.open(path, actor="you") as ledger:
        before = ledger.outcomes.portfolio_report(parse_period("2026-Q1")).attribution_coverage
        ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
        ledger.acting_as("finn.berg").portfolio.agree_metric(
            "loc-qa-errors", by="Finn Berg (Finance)"
        )
        agreed = next(
            m for m in ledger.portfolio.initiative("loc-qa").metrics if m.id == "loc-qa-errors"
        )
        again = ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
        kept = next(
            m for m in ledger.portfolio.initiative("loc-qa").metrics if m.id == "loc-qa-errors"
        )
        assert [c.id for c in again.changes if c.kind == "update"] == []
        assert (kept.agreed_by, kept.agreed_at, kept.agreement_recorded) == (
            agreed.agreed_by, agreed.agreed_at, agreed.agreement_recorded,
        )  # fmt: skip
        after = ledger.outcomes.portfolio_report(parse_period("2026-Q1")).attribution_coverage
        assert after == before


def test_a_new_method_voids_the_sign_off(ledger: Ledger, tmp_path: Path) -> None:
    ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
    ledger.portfolio.agree_metric("loc-qa-errors", by="Finn")
    portfolio = yaml.safe_load((EXAMPLES / "portfolio.yaml").read_text())
    errors = next(m for m in portfolio["initiatives"][0]["metrics"] if m["id"] == "loc-qa-errors")
    errors["method"] = "ab_test"
    path = tmp_path / "new-method.yaml"
    path.write_text(yaml.safe_dump(portfolio))
    result = ledger.portfolio.apply_file(path)
    [change] = [c for c in result.changes if c.id == "loc-qa-errors"]
    assert set(change.fields) == {"method", "agreed_by", "agreed_at"}
    voided = next(
        m for m in ledger.portfolio.initiative("loc-qa").metrics if m.id == "loc-qa-errors"
    )
    assert (voided.agreed, voided.agreement_recorded) == (False, None)


def test_a_file_cannot_say_when_an_agreement_was_recorded(ledger: Ledger, tmp_path: Path) -> None:
    portfolio = yaml.safe_load((EXAMPLES / "portfolio.yaml").read_text())
    portfolio["initiatives"][0]["metrics"][0]["agreement_recorded"] = "2020-01-01T00:00:00"
    path = tmp_path / "recorded.yaml"
    path.write_text(yaml.safe_dump(portfolio))
    with pytest.raises(ValidationError) as refused:
        ledger.portfolio.apply_file(path)
    assert [p.where for p in refused.value.problems] == [
        "initiatives[0] (loc-qa).metrics[0].agreement_recorded"
    ]


def test_migration_8_dates_stored_agreements_by_the_audit_log(db_path: Path) -> None:
    from valuegap.store import Database
    from valuegap.store.migrations import MIGRATIONS

    db = Database.open(db_path, create=True, migrations=MIGRATIONS[:7])
    db.execute(
        """INSERT INTO metrics (id, initiative_id, position, name, unit, direction, method,
            agreed_by, agreed_at)
        VALUES ('m1', 'i', 0, 'M', 'h', 'decrease', 'direct', 'Fin', DATE '2024-06-01'),
               ('m2', 'i', 1, 'M', 'h', 'decrease', 'direct', 'Fin', DATE '2024-06-01')"""
    )
    # m1 was agreed on 2025-03-10 (backdated to 2024-06-01); m2's agreement has no entry.
    db.execute(
        """INSERT INTO audit_log VALUES (1, TIMESTAMP '2025-03-10 09:00:00', 'fin',
            'metric.agree', 'metric', 'm1', '{"agreed_at":null,"agreed_by":null}',
            '{"agreed_at":"2024-06-01","agreed_by":"Fin"}', 'x', 'y')"""
    )
    db.close()
    upgraded = Database.open(db_path, create=False)
    rows = upgraded.all("SELECT id, agreement_recorded_at FROM metrics ORDER BY id")
    assert [r["agreement_recorded_at"] for r in rows] == [
        datetime(2025, 3, 10, 9, 0),
        datetime(2024, 6, 1),
    ]
    upgraded.close()

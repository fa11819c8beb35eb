"""The rules in force as the ledger keeps them: read back exactly as written, and the YAML
that earlier versions stored is still read."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from valuegap import Ledger

from .test_allocation import FOCUS_HEADER, focus_line

RULES = (
    "rules:\n"
    "  - id: s3\n"
    "    match: {service: Amazon S3}\n"
    "    split: {method: fixed, shares: {loc-qa: 0.25, doc-classifier: 0.75}}\n"
    "  - id: teams\n"
    "    match: {team: [Équipe, data]}\n"
    "    business_unit: engineering\n"
)
# The same rules as earlier versions stored them: their YAML dump.
EARLIER = (
    "rules:\n"
    "- id: s3\n"
    "  match:\n"
    "    service: Amazon S3\n"
    "  split:\n"
    "    method: fixed\n"
    "    among: []\n"
    "    shares:\n"
    "      loc-qa: 0.25\n"
    "      doc-classifier: 0.75\n"
    "- id: teams\n"
    "  match:\n"
    "    team:\n"
    "    - Équipe\n"
    "    - data\n"
    "  business_unit: engineering\n"
)


def _apply(ledger: Ledger, example_portfolio: Path, tmp_path: Path) -> int:
    ledger.portfolio.apply_file(example_portfolio)
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    return ledger.costs.apply_rules(path)


def test_shares_are_read_back_exactly_and_split_80_into_20_and_60(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    _apply(ledger, example_portfolio, tmp_path)
    bill = tmp_path / "bill.csv"
    bill.write_text("\n".join([FOCUS_HEADER, focus_line("80.00", None, service="Amazon S3")]))
    ledger.costs.ingest_focus([bill])
    s3, teams = ledger.costs.allocation_rules().rules
    assert s3.split is not None
    assert s3.split.shares == {"loc-qa": Decimal("0.25"), "doc-classifier": Decimal("0.75")}
    assert (teams.id, teams.match, teams.business_unit) == (
        "teams",
        {"team": ["Équipe", "data"]},
        "engineering",
    )
    totals = {r.initiative: r.cost for r in ledger.costs.cost_report(["initiative"])}
    assert totals == {"loc-qa": 20, "doc-classifier": 60}


def test_the_same_rules_applied_again_keep_their_version(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    assert _apply(ledger, example_portfolio, tmp_path) == 1
    assert ledger.costs.apply_rules(tmp_path / "rules.yaml") == 1


def test_rules_an_earlier_version_stored_as_yaml_are_read_and_kept(
    ledger: Ledger, example_portfolio: Path, tmp_path: Path
) -> None:
    ledger.portfolio.apply_file(example_portfolio)
    ledger.session.db.execute(
        "INSERT INTO allocation_rules VALUES (1, ?, now(), 'someone')", [EARLIER]
    )
    s3, teams = ledger.costs.allocation_rules().rules
    assert s3.split is not None and s3.split.shares == {
        "loc-qa": Decimal("0.25"),
        "doc-classifier": Decimal("0.75"),
    }
    assert teams.match == {"team": ["Équipe", "data"]}
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    assert ledger.costs.apply_rules(path) == 1  # the same rules: no new version

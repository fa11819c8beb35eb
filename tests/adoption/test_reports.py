"""The adoption reports end to end, on a hand-built organisation whose rungs are worked out by
hand: files in through the real ingest, the ladder and the conviction distance out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.adoption.adoption_data import ADOPTION_HEADER, activity, ladder, write_csv
from valuegap import Ledger
from valuegap.errors import NotFound
from valuegap.settings import Settings

ON = date(2025, 12, 1)  # a Monday: the window is the four weeks 2025-11-03 to 2025-11-30
WEEKS = ["2025-11-04", "2025-11-11", "2025-11-18", "2025-11-25"]
ORG = [
    ("acme", ""),
    ("sales", "acme"),
    ("sales-emea", "sales"),
    ("support", "acme"),
    ("legal", "acme"),
]
# unit -> people whose highest rung is access, awareness, training, experimentation, regular
PROFILE = {
    "sales": (2, 4, 6, 3, 5),  # 20 people
    "sales-emea": (3, 0, 0, 0, 0),  # 3 people: fewer than k, rolled up into sales
    "support": (4, 4, 8, 8, 16),  # 40 people
    "legal": (10, 0, 0, 0, 0),  # 10 people
}


def _rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    n = 0
    for unit, counts in PROFILE.items():
        for rung, count in enumerate(counts):
            for _ in range(count):
                n += 1
                person = f"U{n:03d}@Acme.example"
                rows += ladder(person, unit, "assistant", "2025-10-01", "awt"[: rung + 1])
                if rung >= 3:
                    rows += activity(person, unit, "assistant", ["2025-10-15"])
                if rung == 4:
                    rows += activity(person, unit, "assistant", WEEKS)
    # support: 600 of 1,000 cases handled with AI in the window
    rows.append(("", "support", "assistant", "process", "2025-11-10", 600, 1000))
    return rows


@pytest.fixture
def acme(ledger: Ledger, tmp_path: Path) -> Ledger:
    ledger.portfolio.add_initiative(
        {"id": "support-bot", "name": "Support bot", "kind": "use_case", "business_unit": "support"}
    )
    ledger.portfolio.attest_control("support-bot", "sops_updated", "SOP v3 on the intranet")
    ledger.adoption.ingest_org(write_csv(tmp_path / "org.csv", ("unit", "parent"), ORG))
    ledger.adoption.ingest_adoption(write_csv(tmp_path / "a.csv", ADOPTION_HEADER, _rows()))
    answers = [("sales", "executive_confidence", "2025-11-15", a) for a in (5, 5, 4, 4, 5, 3)]
    answers += [("sales", "manager_readiness", "2025-11-15", a) for a in (4, 4, 2)]
    ledger.adoption.ingest_survey(
        write_csv(tmp_path / "s.csv", ("unit", "survey", "period", "answer"), answers)
    )
    return ledger


def test_the_hand_built_ladder_gives_the_rungs_and_drops_worked_out_by_hand(acme: Ledger) -> None:
    report = acme.adoption.adoption_report(on=ON)
    groups = {group.group: group for group in report.groups}
    assert list(groups) == ["legal", "sales", "support"]  # sales-emea is inside sales
    legal, sales, support = groups["legal"], groups["sales"], groups["support"]
    # legal: 10 people with access only: on access; everyone stops there (a fall of 100 %)
    assert (legal.people, legal.rung, legal.largest_drop) == (10, "access", "access -> awareness")
    assert legal.largest_drop_fall == 1
    # sales with sales-emea's 3 (at access): 23 people, 5, 4, 6, 3, 5 at each rung; reaching
    # 23, 18, 14, 8, 5 of 23: regular use 5/23 = 21.7 % < 30 %, so experimentation
    # (8/23 = 34.8 % >= 30 %); the falls are 5, 4, 6, 3 of 23: largest training -> experimentation
    assert (sales.people, sales.licensed, sales.rung) == (23, 23, "experimentation")
    assert sales.includes == "includes 1 unit too small to show on its own"
    assert sales.share_access == pytest.approx(5 / 23)
    assert sales.reaching_awareness == pytest.approx(18 / 23)
    assert sales.reaching_regular_use == pytest.approx(5 / 23)
    assert sales.largest_drop == "training -> experimentation"
    assert sales.largest_drop_fall == pytest.approx(6 / 23)
    # support: 40 people reaching 40, 36, 32, 24, 16: regular use 40 % >= 30 %; SOPs attested
    # and 600 of 1,000 cases (60 % >= 50 %) with AI: workflow integration; no validated outcome.
    # Falls 4, 4, 8, 8: the tie goes to the lower pair, training -> experimentation.
    assert (support.people, support.rung) == (40, "workflow_integration")
    assert support.process_ai_share == pytest.approx(0.6)
    assert (support.sops_updated, support.validated_outcome) == (True, False)
    assert (support.largest_drop, support.largest_drop_fall) == (
        "training -> experimentation",
        pytest.approx(0.2),
    )


def test_a_unit_too_small_is_shown_only_as_the_group_that_holds_it(acme: Ledger) -> None:
    whole = {group.group: group for group in acme.adoption.adoption_report(on=ON).groups}
    inside = acme.adoption.adoption_report(unit="sales-emea", on=ON)
    assert [group.group for group in inside.groups] == ["sales"]
    assert inside.groups[0] == whole["sales"]  # the same figures: one partition
    assert inside.note == "sales-emea is not shown on its own: its people are counted in sales"
    assert [g.group for g in acme.adoption.adoption_report(unit="acme", on=ON).groups] == [
        "legal",
        "sales",
        "support",
    ]
    with pytest.raises(NotFound, match="no org unit 'nowhere'"):
        acme.adoption.adoption_report(unit="nowhere", on=ON)
    with pytest.raises(NotFound, match="'nothing'"):
        acme.adoption.adoption_report(initiative="nothing", on=ON)


def test_the_criteria_come_from_the_settings(acme: Ledger, db_path: Path) -> None:
    acme.close()
    strict = Settings(db=db_path, ladder_experimentation=0.4, ladder_workflow_share=0.7)
    with Ledger.open(db_path, actor="alice", settings=strict) as ledger:
        groups = {g.group: g for g in ledger.adoption.adoption_report(on=ON).groups}
    # sales: 8/23 = 34.8 % < 40 %: training; support: 60 % < 70 %: regular use
    assert groups["sales"].rung == "training"
    assert groups["support"].rung == "regular_use"


def test_the_hand_built_conviction(acme: Ledger) -> None:
    groups = {g.group: g for g in acme.adoption.conviction_report(on=ON).groups}
    sales = groups["sales"]
    # executives: 5, 5, 4, 4, 5, 3, mean 26/6, scaled (26/6 - 1) / 4 = 0.8333; three managers
    # are fewer than k: not shown; regular users 5 of 23 = 0.2174; no cost: no outcome
    assert sales.executive_confidence == pytest.approx(0.8333)
    assert sales.manager_readiness is None
    assert sales.workforce_use == pytest.approx(0.2174)
    assert sales.realised_outcome is None and sales.distance is None
    assert sales.notes is not None and "manager_readiness not shown" in sales.notes
    # support: 16 of 40 regular users; 600 of 1,000 with SOPs updated
    support = groups["support"]
    assert (support.workforce_use, support.workflow_integration) == (0.4, 0.6)
    assert support.largest_drop is None  # workforce use rises to workflow integration


def test_one_initiatives_report_coarsens_the_groups(acme: Ledger) -> None:
    # Only the assistant is used: its report is the whole one, but for the initiative filter
    report = acme.adoption.adoption_report(initiative="assistant", on=ON)
    assert [(g.group, g.people) for g in report.groups] == [
        ("legal", 10),
        ("sales", 23),
        ("support", 40),
    ]
    # an initiative nobody's records name: nobody to show
    assert acme.adoption.adoption_report(initiative="support-bot", on=ON).groups == []

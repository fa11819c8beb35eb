"""Business units' statements: showback totals equal the cost report; chargeback from a month,
closed months frozen, later changes booked as adjustments in the next open month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, ValidationError
from valuegap.outcomes.periods import parse_period

from ..conftest import SteppingClock
from ..costs.test_allocation import FOCUS_HEADER, focus_line, span

RULES = """
rules:
  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}
  - {id: docs, match: {tag.initiative: doc-classifier}, initiative: doc-classifier}
  - id: platform
    match: {tag.application: platform}
    split: {method: proportional, driver: cost, among: [loc-qa, doc-classifier]}
"""


def _bill(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([FOCUS_HEADER, *lines]) + "\n")
    return path


def february(correction: bool = False) -> list[str]:
    """February's bill: loc-qa 1,000, doc-classifier 500, a shared platform 300; corrected,
    it has one more line for loc-qa: a late charge of 45.50."""
    lines = [
        focus_line("1000.00", {"initiative": "loc-qa"}, "Amazon SageMaker", "2026-02"),
        focus_line("500.00", {"initiative": "doc-classifier"}, "Amazon SageMaker", "2026-02"),
        focus_line("300.00", {"application": "platform"}, "Amazon EKS", "2026-02"),
    ]
    if correction:
        lines.append(focus_line("45.50", {"initiative": "loc-qa"}, "Amazon Bedrock", "2026-02"))
    return lines


@pytest.fixture
def ledger(db_path: Path, example_portfolio: Path, tmp_path: Path) -> Iterator[Ledger]:
    """The example portfolio (loc-qa in marketing, doc-classifier in operations), February's
    and March's bills and March's usage, on April 2nd 2026; fiona is finance."""
    clock = SteppingClock(datetime(2026, 4, 2, 9, 0))
    with Ledger.init(db_path, actor="alice", clock=clock) as opened:
        opened.portfolio.apply_file(example_portfolio)
        opened.costs.ingest_focus([_bill(tmp_path / "february.csv", february())])
        march = [focus_line("1200.00", {"initiative": "loc-qa"}, "Amazon SageMaker", "2026-03")]
        opened.costs.ingest_focus([_bill(tmp_path / "march.csv", march)])
        spans = tmp_path / "spans.jsonl"  # OpenAI has no invoice: an estimate, 1.00 a span
        lines = [span(1, "loc-qa", 2_000, "2026-03"), span(2, "loc-qa", 1_000, "2026-03")]
        spans.write_text("\n".join(lines) + "\n")
        opened.costs.ingest_usage(spans, "otel")
        rules = tmp_path / "rules.yaml"
        rules.write_text(RULES)
        opened.costs.apply_rules(rules)
        opened.governance.users.add_user("fiona", "finance")
        opened.governance.users.add_user("ana", "contributor", ["marketing"])
        yield opened


def _unit_row(ledger: Ledger, unit: str, period: str) -> Decimal:
    window = parse_period(period)
    rows = ledger.costs.cost_report(["business_unit"], window.start, window.end)
    return next(r.cost for r in rows if r.business_unit == unit)


def test_a_showback_statement_holds_the_units_cost_as_the_cost_report_does(
    ledger: Ledger,
) -> None:
    statement = ledger.statements.statement("marketing", parse_period("2026-02"))
    # Marketing's February: loc-qa's own 1,000 and its share of the platform's 300, split by
    # directly allocated cost 1,000 : 500, so 300 * 1000/1500 = 200. Total 1,200.
    assert statement.mode == "showback"
    assert statement.to_book is None
    assert statement.cost == Decimal(1200) == _unit_row(ledger, "marketing", "2026-02")
    assert (statement.invoiced, statement.estimated, statement.manual) == (1200, 0, 0)
    assert [(ln.initiative, ln.provider, ln.basis, ln.cost) for ln in statement.lines] == [
        ("loc-qa", "AWS", "invoiced", Decimal(1200))
    ]
    [shared] = statement.shared
    assert (shared.rule, shared.method, shared.driver) == ("platform", "proportional", "cost")
    assert (shared.initiative, shared.cost, shared.split_total) == ("loc-qa", 200, 300)
    assert shared.share == 0.6667  # 200 / 300
    # Operations gets the other 100 of the platform: 500 + 100.
    operations = ledger.statements.statement("operations", parse_period("2026-02"))
    assert operations.cost == 600 == _unit_row(ledger, "operations", "2026-02")


def test_a_statement_says_what_is_estimated_and_shows_activity_as_context(
    ledger: Ledger,
) -> None:
    statement = ledger.statements.statement("marketing", parse_period("2026-03"))
    # March: the 1,200 invoice, and two OpenAI spans at 1.00 each that no invoice covers.
    assert (statement.cost, statement.invoiced, statement.estimated) == (1202, 1200, 2)
    assert statement.cost == _unit_row(ledger, "marketing", "2026-03")
    assert (statement.activity.tokens, statement.activity.requests) == (3_000, 2)
    assert "never rewarded" in statement.activity.note
    # The quarter: February's 1,200 and March's 1,202.
    quarter = ledger.statements.statement("marketing", parse_period("2026-Q1"))
    assert quarter.cost == 2402 == _unit_row(ledger, "marketing", "2026-Q1")


def test_chargeback_from_march_freezes_february_and_books_its_correction_in_march(
    ledger: Ledger, tmp_path: Path
) -> None:
    finance = ledger.acting_as("fiona")
    # February was issued as showback and closed at its end; the unit is charged back from
    # March, to its cost centre.
    closed = finance.statements.close_month("marketing", date(2026, 2, 1))
    assert (closed.mode, closed.cost, closed.closed_by) == ("showback", 1200, "fiona")
    unit = finance.statements.set_chargeback("marketing", date(2026, 3, 1), "CC-410")
    assert (unit.from_month, unit.cost_centre, unit.closed_months) == (
        "2026-03",
        "CC-410",
        ["2026-02"],
    )
    # The corrected February bill: the same three lines (already stored) and a late charge
    # of 45.50 for loc-qa. It also changes the platform's split: by cost 1,045.50 : 500, loc-qa
    # gets 300 * 1045.5 / 1545.5 = 202.9440310579... of it, 2.9440310579 more than the 200
    # booked, and operations that much less.
    result = finance.costs.ingest_focus([_bill(tmp_path / "corrected.csv", february(True))])
    assert result[0].rows_added == 1
    now = _unit_row(ledger, "marketing", "2026-02")
    assert now == Decimal("1248.4440310579")  # 1,000 + 45.50 + 202.9440310579

    again = ledger.statements.statement("marketing", parse_period("2026-02"))
    assert again == closed  # as it was closed, to the last field
    assert again.cost == 1200

    march = ledger.statements.statement("marketing", parse_period("2026-03"))
    assert (march.mode, march.cost_centre) == ("chargeback", "CC-410")
    assert march.cost == 1202 == _unit_row(ledger, "marketing", "2026-03")
    assert [(a.corrects, a.initiative, a.difference) for a in march.adjustments] == [
        ("2026-02", "loc-qa", Decimal("48.4440310579"))  # 45.50 + 2.9440310579
    ]
    assert march.adjustments_total == now - 1200
    assert march.to_book == Decimal("1250.4440310579")  # 1,202 + 48.4440310579


def test_a_closed_chargeback_month_stays_and_the_next_open_month_books_each_change_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    finance = ledger.acting_as("fiona")
    finance.statements.set_chargeback("marketing", date(2026, 2, 1))
    feb = finance.statements.close_month("marketing", date(2026, 2, 1))
    assert (feb.mode, feb.to_book) == ("chargeback", 1200)
    finance.costs.ingest_focus([_bill(tmp_path / "corrected.csv", february(True))])
    march = finance.statements.close_month("marketing", date(2026, 3, 1))
    assert march.adjustments_total == Decimal("48.4440310579")
    # March is closed with February's adjustment in it: April has nothing more to book for
    # February, until February changes again: then April books only the new difference.
    april = parse_period("2026-04")
    assert ledger.statements.statement("marketing", april).adjustments == []
    credit = focus_line("-10.00", {"initiative": "loc-qa"}, "Amazon SageMaker", "2026-02")
    late = [credit.replace("Usage", "Credit")]
    finance.costs.ingest_focus([_bill(tmp_path / "credit.csv", late)])
    [adjustment] = ledger.statements.statement("marketing", april).adjustments
    # The credit also moves the split: 300 * 1035.5 / 1535.5 = 202.3119505047 for loc-qa,
    # 0.6320805532 less than before: -10 - 0.6320805532.
    assert (adjustment.corrects, adjustment.difference) == ("2026-02", Decimal("-10.6320805532"))
    assert ledger.statements.statement("marketing", parse_period("2026-03")) == march
    # Closing again changes nothing.
    assert finance.statements.close_month("marketing", date(2026, 3, 1)) == march


def test_switching_and_closing_are_finances_and_audited(ledger: Ledger) -> None:
    with pytest.raises(PermissionDenied, match="ana"):
        ledger.acting_as("ana").statements.set_chargeback("marketing", date(2026, 3, 1))
    with pytest.raises(PermissionDenied):
        ledger.acting_as("ana").statements.close_month("marketing", date(2026, 2, 1))
    finance = ledger.acting_as("fiona")
    finance.statements.set_chargeback("marketing", date(2026, 3, 1), "CC-410")
    finance.statements.set_chargeback("marketing", date(2026, 3, 1), "CC-410")  # no change
    finance.statements.close_month("marketing", date(2026, 2, 1))
    finance.statements.close_month("marketing", date(2026, 2, 1))  # no change
    actions = [e.action for e in ledger.governance.audit.audit_log()]
    assert actions.count("chargeback.set") == 1
    assert actions.count("statement.close") == 1
    # The log proves the switch and the closed statement, as stored.
    verified = ledger.governance.audit.verify_audit()
    assert verified.ok, verified.message


def test_a_month_not_over_or_an_unknown_unit_is_not_closed(ledger: Ledger) -> None:
    finance = ledger.acting_as("fiona")
    with pytest.raises(ValidationError) as found:
        finance.statements.close_month("marketing", date(2026, 4, 1))  # it is April 2nd
    assert [(p.where, p.value) for p in found.value.problems] == [("month", "2026-04")]
    with pytest.raises(ValidationError) as found:
        finance.statements.set_chargeback("nowhere", date(2026, 3, 15))
    assert [p.where for p in found.value.problems] == ["from_month", "business_unit"]
    with pytest.raises(ValidationError):
        finance.statements.set_chargeback("(unallocated)", date(2026, 3, 1))
    with pytest.raises(NotFound, match="nowhere"):
        finance.statements.statement("nowhere", parse_period("2026-03"))


def test_a_contributor_reads_only_their_own_units_statements(ledger: Ledger) -> None:
    ana = ledger.acting_as("ana")
    assert ana.statements.statement("marketing", parse_period("2026-02")).cost == 1200
    with pytest.raises(PermissionDenied, match="operations"):
        ana.statements.statement("operations", parse_period("2026-02"))

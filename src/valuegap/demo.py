"""The sample organisation: a deterministic ledger built from the examples the field talks about.

Northwind Group runs nine AI initiatives across six business units, at every stage: a
localisation QA assistant in production, a document classifier at scale, product recommendations
and a refund agent at MVP, fraud detection and code review at PoC, a meeting summariser that was
killed, and two proposals, one of them prohibited. Every change is made by the person whose role
it is, on a simulated calendar, so the audit log reads like a real year.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuegap.demo_costs import load_demo_costs
from valuegap.demo_outcomes import load_demo_outcomes
from valuegap.errors import ConfigError
from valuegap.ledger import Ledger
from valuegap.portfolio.model import Portfolio
from valuegap.portfolio.validation import validated
from valuegap.portfolio.vocabulary import STAGES
from valuegap.settings import Settings
from valuegap.store import Database

DEMO_ORIGIN = "demo"
START = datetime(2025, 1, 6, 9, 0)

# Who does what in Northwind (the acting user is added as admin too).
PEOPLE = {
    "ana.costa": ("contributor", ["marketing"]),
    "omar.haddad": ("contributor", ["operations", "customer-service"]),
    "lena.fischer": ("contributor", ["commerce", "risk", "engineering"]),
    "finn.berg": ("finance", []),
    "grace.okafor": ("governance", []),
    "exec.board": ("viewer", []),
}


def _metric(id: str, name: str, unit: str, direction: str, baseline: Any, period: str,
            value_per_unit: str, method: str, **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "id": id, "name": name, "unit": unit, "direction": direction,
        "baseline": {"value": baseline, "period": period, "source": extra.pop("source", None)},
        "value_per_unit": Decimal(value_per_unit), "currency": "USD", "method": method, **extra,
    }  # fmt: skip


def _case(investment: int, value: int, ceiling: float, midpoint: float, steepness: float
          ) -> dict[str, Any]:  # fmt: skip
    return {
        "currency": "USD", "monthly_investment": investment,
        "monthly_value_at_full_adoption": value,
        "adoption_ramp": {"ceiling": ceiling, "midpoint_month": midpoint, "steepness": steepness},
    }  # fmt: skip


INITIATIVES: list[dict[str, Any]] = [
    {
        "id": "loc-qa",
        "name": "Localisation QA assistant",
        "kind": "use_case",
        "business_unit": "marketing",
        "owner": "Ana Costa",
        "sponsor": "CMO",
        "risk_tier": "limited",
        "hypothesis": "An LLM pre-check of translated copy halves QA hours and catches errors "
        "before release.",
        "kill_criteria": ["roi < 0 && months_live >= 6", "accuracy < 0.8"],
        "business_case": _case(38_000, 61_000, 0.9, 5, 0.9),
        "metrics": [
            _metric(
                "loc-qa-errors",
                "Translation errors reaching customers",
                "errors/year",
                "decrease",
                150,
                "2024",
                "1200",
                "before_after",
                target=40,
                source="Localisation defect tracker",
                volume_basis="release",
            ),
            _metric(
                "loc-qa-hours",
                "QA hours",
                "hours/month",
                "decrease",
                300,
                "2024-H2",
                "85",
                "before_after",
                target=150,
                source="Timesheets",
            ),
        ],
    },
    {
        "id": "doc-classifier",
        "name": "Inbound document classifier",
        "kind": "workflow",
        "business_unit": "operations",
        "owner": "Omar Haddad",
        "sponsor": "COO",
        "risk_tier": "minimal",
        "hypothesis": "Classifying inbound documents cuts manual review from 40 to 8 hours a week.",
        "kill_criteria": ["override_rate > 0.5"],
        "business_case": _case(9_000, 14_000, 0.95, 3, 1.2),
        "metrics": [
            _metric(
                "doc-review-hours",
                "Manual review hours",
                "hours/week",
                "decrease",
                40,
                "2024-Q4",
                "62",
                "before_after",
                target=8,
                source="Workflow system",
            ),
        ],
    },
    {
        "id": "product-recs",
        "name": "Product recommendations",
        "kind": "use_case",
        "business_unit": "commerce",
        "owner": "Lena Fischer",
        "sponsor": "Chief Digital Officer",
        "risk_tier": "limited",
        "hypothesis": "Recommendations raise order value: each accepted one is worth 3.50 USD.",
        "kill_criteria": ["roi < 0 && months_live >= 6"],
        "business_case": _case(22_000, 48_000, 0.8, 6, 0.7),
        "metrics": [
            _metric(
                "recs-order-value",
                "Order value from accepted recommendations",
                "accepted recommendations",
                "increase",
                0,
                "2025-Q1",
                "3.50",
                "ab_test",
                source="Order management system",
                volume_basis="session",
            ),
        ],
    },
    {
        "id": "fraud-detection",
        "name": "Card fraud detection",
        "kind": "use_case",
        "business_unit": "risk",
        "owner": "Lena Fischer",
        "sponsor": "CRO",
        "risk_tier": "high",
        "hypothesis": "A model on transaction streams lowers fraud losses; rolled out region by "
        "region so untreated regions are the control.",
        "kill_criteria": ["roi < 0 && months_live >= 9"],
        "business_case": _case(55_000, 140_000, 0.85, 7, 0.6),
        "metrics": [
            _metric(
                "fraud-losses",
                "Fraud losses",
                "USD/month",
                "decrease",
                410_000,
                "2024",
                "1",
                "diff_in_diff",
                source="Chargeback ledger",
            ),
        ],
    },
    {
        "id": "code-review",
        "name": "AI-assisted code review",
        "kind": "workflow",
        "business_unit": "engineering",
        "owner": "Lena Fischer",
        "sponsor": "CTO",
        "risk_tier": "minimal",
        "hypothesis": "AI review comments shorten review cycle time without more defects.",
        "kill_criteria": ["roi < 0 && months_live >= 6"],
        "metrics": [
            _metric(
                "review-cycle-hours",
                "Review cycle time",
                "hours per pull request",
                "decrease",
                26,
                "2025-Q1",
                "45",
                "ab_test",
                target=18,
                source="Git hosting analytics",
                volume_basis="pull request",
            ),
        ],
    },
    {
        "id": "refund-agent",
        "name": "Customer refund agent",
        "kind": "agent",
        "business_unit": "customer-service",
        "owner": "Omar Haddad",
        "sponsor": "VP Customer Service",
        "risk_tier": "limited",
        "hypothesis": "An agent resolves routine refund tickets end to end with no human touch.",
        "kill_criteria": ["override_rate > 0.3", "roi < 0 && months_live >= 6"],
        "business_case": _case(18_000, 35_000, 0.7, 4, 1.0),
        "metrics": [
            _metric(
                "refunds-resolved",
                "Refund tickets resolved with no human touch",
                "tickets",
                "increase",
                0,
                "2025-Q2",
                "4.20",
                "direct",
                source="Ticketing system",
            ),
        ],
    },
    {
        "id": "meeting-summariser",
        "name": "Meeting summariser",
        "kind": "use_case",
        "business_unit": "operations",
        "owner": "Omar Haddad",
        "risk_tier": "minimal",
        "hypothesis": "Automatic meeting notes save managers an hour a week.",
        "kill_criteria": ["roi < 0 && months_live >= 6"],
        "metrics": [
            _metric(
                "summary-hours-saved",
                "Manager hours saved",
                "hours/week",
                "increase",
                0,
                "2025-Q1",
                "70",
                "before_after",
            ),
        ],
    },
    {
        "id": "sales-forecast",
        "name": "Sales forecasting copilot",
        "kind": "use_case",
        "business_unit": "commerce",
        "owner": "Lena Fischer",
        "hypothesis": "Better weekly forecasts reduce stock-outs.",
    },
    {
        "id": "emotion-monitoring",
        "name": "Call-centre emotion recognition",
        "kind": "use_case",
        "business_unit": "customer-service",
        "owner": "Omar Haddad",
        "risk_tier": "prohibited",
        "hypothesis": "Scoring agents' emotions on calls improves service (emotion recognition "
        "in the workplace is prohibited under the EU AI Act: it stays proposed).",
    },
]

# (day offset from START, who, what, initiative, argument)
TIMELINE: list[tuple[int, str, str, str, Any]] = [
    (10, "finn.berg", "agree", "loc-qa-errors", None),
    (10, "finn.berg", "agree", "loc-qa-hours", None),
    (12, "finn.berg", "agree", "doc-review-hours", None),
    (14, "ana.costa", "advance", "loc-qa", "poc"),
    (16, "omar.haddad", "advance", "doc-classifier", "poc"),
    (20, "omar.haddad", "advance", "meeting-summariser", "poc"),
    (45, "omar.haddad", "advance", "doc-classifier", "mvp"),
    (60, "ana.costa", "advance", "loc-qa", "mvp"),
    (62, "omar.haddad", "advance", "meeting-summariser", "mvp"),
    (70, "finn.berg", "agree", "recs-order-value", None),
    (75, "lena.fischer", "advance", "product-recs", "poc"),
    (80, "finn.berg", "agree", "review-cycle-hours", None),
    (85, "lena.fischer", "advance", "code-review", "poc"),
    (95, "finn.berg", "agree", "refunds-resolved", None),
    (100, "omar.haddad", "advance", "refund-agent", "poc"),
    (110, "omar.haddad", "attest", "doc-classifier", "all"),
    (112, "omar.haddad", "advance", "doc-classifier", "production"),
    (130, "ana.costa", "attest", "loc-qa", "all"),
    (135, "ana.costa", "advance", "loc-qa", "production"),
    (150, "finn.berg", "agree", "fraud-losses", None),
    (150, "finn.berg", "agree", "summary-hours-saved", None),  # after measuring began
    (155, "lena.fischer", "advance", "fraud-detection", "poc"),
    (170, "lena.fischer", "advance", "product-recs", "mvp"),
    (200, "omar.haddad", "advance", "refund-agent", "mvp"),
    (240, "omar.haddad", "retire", "meeting-summariser", None),
    (260, "omar.haddad", "advance", "doc-classifier", "scaled"),
]

EVIDENCE = {
    "role_based_training": "Training completion report in the LMS, all users of the workflow",
    "sops_updated": "Standard operating procedures v2 published on the intranet",
    "usage_monitoring": "Usage dashboard with weekly alerts to the owner",
    "exception_management": "Exception queue and runbook owned by the team lead",
    "human_authority": "Review, approval and override rules signed off by the business owner",
}

RETIREMENT = (
    "Six months after MVP only 9 % of managers used it weekly and no hours saved could be shown.",
    "Summaries without action items were not trusted; adoption needs the calendar and task "
    "tools integrated, and a measured baseline before the PoC.",
)


class _Calendar:
    """A clock the demo moves forward by hand, so every run writes the same ledger."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def build_demo(settings: Settings, *, actor: str) -> str:
    """Build the sample organisation in ``settings.db``; return a summary for people.

    A file that an earlier demo built is replaced; any other existing file is left alone.
    """
    path = Path(settings.db)
    if actor in PEOPLE:
        raise ConfigError(
            f"{actor} is one of the demo's people ({', '.join(PEOPLE)}), who act with their own "
            "roles; build the demo as someone else (--as NAME)."
        )
    portfolio = validated(Portfolio, {"initiatives": INITIATIVES}, "The demo is invalid.")
    _make_room(path)
    calendar = _Calendar(START)
    with Ledger.init(path, actor=actor, settings=settings, clock=calendar) as admin:
        admin.set_origin(DEMO_ORIGIN)
        for name, (role, units) in PEOPLE.items():
            admin.add_user(name, role, units)
        admin.apply(portfolio)
        for offset, who, what, target, argument in TIMELINE:
            calendar.now = max(calendar.now, START + timedelta(days=offset))
            _act(admin.acting_as(who), what, target, argument, START + timedelta(days=offset))
        with tempfile.TemporaryDirectory() as folder:
            calendar.now = START + timedelta(days=540)
            load_demo_costs(admin.acting_as("finn.berg"), Path(folder))
            load_demo_outcomes(admin.acting_as("finn.berg"), Path(folder))
        present = {i.stage for i in admin.initiatives()}
        stages = [s for s in STAGES if s in present]
        count = len(admin.initiatives())
    return (
        f"Built the Northwind demo in {path}: {count} initiatives at stages "
        f"{', '.join(stages)}, {len(PEOPLE) + 1} users ({actor} is admin).\n"
        "with 18 months of cost (cloud bills, LLM usage, people, data, operations) and a year\n"
        "of measured outcomes (counts, before/after, A/B tests, a regional rollout).\n"
        f"Try: valuegap initiative list --db {path}\n"
        f"     valuegap report costs --by initiative --db {path}\n"
        f"     valuegap report portfolio --db {path}"
    )


def _act(ledger: Ledger, what: str, target: str, argument: Any, when: datetime) -> None:
    if what == "agree":
        ledger.agree_metric(target, by="Finn Berg (Finance)", at=when.date())
    elif what == "advance":
        ledger.advance(target, argument)
    elif what == "attest":
        for control, evidence in EVIDENCE.items():
            ledger.attest_control(target, control, evidence)
    elif what == "retire":
        ledger.retire(target, reason=RETIREMENT[0], learnings=RETIREMENT[1])
    else:  # pragma: no cover - the timeline above is fixed
        raise AssertionError(what)


def _make_room(path: Path) -> None:
    if not path.exists():
        return
    try:
        database = Database.open(path, create=False)
    except ConfigError:
        origin = None
    else:
        origin = database.get_meta("origin")
        database.close()
    if origin != DEMO_ORIGIN:
        raise ConfigError(
            f"{path} exists and is not a demo ledger, so the demo will not replace it. "
            "Build the demo elsewhere with `valuegap demo --db demo.duckdb`."
        )
    path.unlink()
    Path(f"{path}.wal").unlink(missing_ok=True)

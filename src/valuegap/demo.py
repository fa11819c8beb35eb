"""The sample organisation: a deterministic ledger built from the examples the field talks about.

Northwind Group runs nine AI initiatives across six business units, at every stage: a
localisation QA assistant in production, a document classifier at scale, product recommendations
and a refund agent at MVP, fraud detection and code review at PoC, a meeting summariser that was
killed, and two proposals, one of them prohibited. Every change is made by the person whose role
it is, on a simulated calendar, so the audit log reads like a real year. Its org chart holds
several hundred pseudonymous people at every rung of the adoption ladder (demo_adoption.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from valuegap.demo_adoption import UNITS, load_demo_adoption, people_count
from valuegap.demo_costs import MONTHS as COST_MONTHS
from valuegap.demo_costs import load_demo_costs
from valuegap.demo_outcomes import load_demo_outcomes
from valuegap.errors import ConfigError, PermissionDenied, PolicyViolation
from valuegap.forecast.scenario import ScenarioChanges
from valuegap.ledger import Ledger
from valuegap.model.portfolio import Portfolio
from valuegap.model.vocabulary import STAGES
from valuegap.months import add_months, next_month
from valuegap.portfolio.validation import validated
from valuegap.settings import Settings
from valuegap.store import Database

DEMO_ORIGIN = "demo"
Progress = Callable[[str], None]
"""Told each step of building the demo as it starts, e.g. "costs: LLM usage"."""
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
# The refund agent's service account: it asks for the agent's actions, and never vouches for
# its own initiative (a contributor in customer-service, bound by the separation of duties).
AGENT_ACCOUNTS = {"svc.refund-agent": "refund-agent"}


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


def _ready(evaluated_by: str, accuracy: float, sample_size: int, monthly_cost: int,
           human_in_the_loop: str, fallback: str) -> dict[str, Any]:  # fmt: skip
    """What the poc -> mvp and mvp -> production gates ask to be written down."""
    return {
        "poc_evaluation": {
            "representative_data": True, "evaluated_by": evaluated_by,
            "independent_of_builders": True, "accuracy": accuracy, "sample_size": sample_size,
        },
        "production_cost_estimate": {"currency": "USD", "monthly": monthly_cost},
        "human_in_the_loop": human_in_the_loop,
        "fallback": fallback,
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
        **_ready(
            "Marketing's localisation reviewers",
            0.95,
            400,
            2_400,
            "Reviewers approve every flagged string before release.",
            "The manual QA checklist, as before.",
        ),
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
                volume_basis="team-month",
                primary=True,
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
        "business_case": _case(9_000, 10_000, 0.95, 3, 1.2),
        **_ready(
            "Operations clerks",
            0.93,
            1_200,
            900,
            "Clerks review every document classified with low confidence.",
            "The manual triage queue.",
        ),
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
                volume_basis="team-week",
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
        **_ready(
            "The merchandising team",
            0.81,
            5_000,
            3_100,
            "Merchandisers block categories and override placements.",
            "Best-seller lists.",
        ),
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
        **_ready(
            "Fraud analysts in two regions",
            0.97,
            20_000,
            7_500,
            "Analysts confirm every block above 5,000 USD.",
            "The rules engine it replaces stays on standby.",
        ),
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
                volume_basis="region-month",
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
        # an ambitious case: behind its J-curve's band
        "business_case": _case(12_000, 40_000, 0.9, 4, 1.0),
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
        **_ready(
            "Customer service team leads",
            0.9,
            600,
            1_800,
            "Refunds above the approval threshold go to a team lead.",
            "The ticket returns to the human queue.",
        ),
        "agent": {
            "objective": "Resolve routine refund tickets end to end.",
            "success_criteria": ["Ticket closed with no human touch", "No refund reversed"],
            "allowed_actions": ["issue_refund", "send_reply", "escalate_to_human"],
            "autonomy": "autonomous",
            "approval_threshold": Decimal("200"),
            "currency": "USD",
        },
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
        "kill_criteria": ["roi < 0 && months_live >= 6", "!validated && months_in_stage >= 6"],
        # a slow ramp: retired in month 9 while still in its expected J-curve dip
        "business_case": _case(10_500, 30_000, 0.8, 9, 0.6),
        **_ready(
            "Team managers",
            0.88,
            60,
            600,
            "Managers edit the notes before they are shared.",
            "Managers write their own notes.",
        ),
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

# Policies below the enterprise's default pack: a business unit's and an initiative's own rules.
RISK_POLICY = """\
layer: business_unit
scope: risk
rules:
  - id: risk-high-tier-mvp-approval
    when: {transition: poc->mvp}
    expr: initiative.risk_tier != "high"
    effect: require_approval
    message: The model risk committee approves every high-risk MVP before it touches customers.
"""
SERVICE_POLICY = """\
layer: business_unit
scope: customer-service
rules:
  - id: service-refund-names-order
    when: {action: issue_refund}
    expr: has(action.context.order_id)
    effect: deny
    message: Every refund names the order it refunds (--context order_id=...).
"""
REFUND_AGENT_POLICY = """\
layer: initiative
scope: refund-agent
rules:
  - id: refund-agent-hard-cap
    when: {action: issue_refund}
    expr: action.amount != null && action.amount <= 1000.0
    effect: deny
    message: A refund states its amount; above 1,000 USD a team lead handles it, never the agent.
  - id: refund-agent-new-customers
    when: {action: issue_refund}
    expr: '!has(action.context.customer_days) || int(action.context.customer_days) >= 30'
    effect: require_approval
    message: Refunds to customers of less than 30 days need a team lead's approval.
"""

# (day offset from START, who, what, initiative, argument)
TIMELINE: list[tuple[int, str, str, str, Any]] = [
    (1, "grace.okafor", "policy", "risk", RISK_POLICY),
    (1, "grace.okafor", "policy", "customer-service", SERVICE_POLICY),
    (1, "grace.okafor", "policy", "refund-agent", REFUND_AGENT_POLICY),
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
    (104, "lena.fischer", "try", "code-review", "mvp"),  # denied: the PoC was not evaluated
    (110, "omar.haddad", "attest", "doc-classifier", "all"),
    (112, "omar.haddad", "advance", "doc-classifier", "production"),
    (130, "ana.costa", "attest", "loc-qa", "all"),
    (135, "ana.costa", "advance", "loc-qa", "production"),
    (150, "finn.berg", "agree", "fraud-losses", None),
    (150, "finn.berg", "agree", "summary-hours-saved", None),  # after measuring began
    (155, "lena.fischer", "advance", "fraud-detection", "poc"),
    (170, "lena.fischer", "advance", "product-recs", "mvp"),
    (200, "omar.haddad", "advance", "refund-agent", "mvp"),
    (246, "grace.okafor", "review", "", None),  # meeting-summariser: kill
    (250, "omar.haddad", "retire", "meeting-summariser", None),
    (300, "lena.fischer", "advance", "fraud-detection", "mvp"),  # waits for an approval
    (320, "svc.refund-agent", "authorize", "refund-agent", "send_reply"),
    (320, "svc.refund-agent", "authorize", "refund-agent", "issue_refund 45.90 order_id=NW-100482"),
    (321, "svc.refund-agent", "authorize", "refund-agent", "issue_refund 350 order_id=NW-100517"),
    (322, "svc.refund-agent", "authorize", "refund-agent", "close_account"),  # not allowed
    (390, "omar.haddad", "advance", "doc-classifier", "scaled"),  # ROI now above its case
]

EVIDENCE = {
    "role_based_training": "Training completion report in the LMS, all users of the workflow",
    "sops_updated": "Standard operating procedures v2 published on the intranet",
    "usage_monitoring": "Usage dashboard with weekly alerts to the owner",
    "exception_management": "Exception queue and runbook owned by the team lead",
    "human_authority": "Review, approval and override rules signed off by the business owner",
}

# Code review's PoC runs a few calls a day through the CI; production would review every pull
# request: what would inference cost at 100,000 calls a day, and on a cheaper model?
SCENARIOS = {
    "code-review-in-production": {"volume": "100000/day"},
    "code-review-in-production-on-haiku": {"volume": "100000/day", "model": "claude-haiku-4-5"},
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


def build_demo(
    settings: Settings, *, actor: str, replace: bool = False, progress: Progress | None = None
) -> str:
    """Build the sample organisation in ``settings.db``; return a summary for people.

    A file that an earlier demo built, unchanged since, is replaced; one changed since only
    with ``replace`` and by its admin; any other existing file is left alone. ``progress`` is
    told each step as it starts (it takes some seconds).
    """
    step = progress or _quietly
    path = Path(settings.db)
    if actor in PEOPLE or actor in AGENT_ACCOUNTS:
        raise ConfigError(
            f"{actor} is one of the demo's people ({', '.join([*PEOPLE, *AGENT_ACCOUNTS])}), "
            "who act with their own roles; build the demo as someone else (--as NAME)."
        )
    portfolio = validated(Portfolio, {"initiatives": INITIATIVES}, "The demo is invalid.")
    _make_room(path, actor, replace)
    calendar = _Calendar(START)
    step("people and portfolio")
    with Ledger.init(path, actor=actor, settings=settings, clock=calendar) as admin:
        for name, (role, units) in PEOPLE.items():
            admin.governance.users.add_user(name, role, units)
        admin.portfolio.apply(portfolio)
        for name, agent in AGENT_ACCOUNTS.items():
            admin.governance.users.add_user(name, agent=agent)
        # The history is replayed on top of the whole data set: every gate and review looks
        # only at what had been measured by its own day.
        with tempfile.TemporaryDirectory() as folder:
            load_demo_costs(admin.acting_as("finn.berg"), Path(folder), step)
            step("outcomes: a year of measurements")
            load_demo_outcomes(admin.acting_as("finn.berg"), Path(folder))
        step("governance: the year's gates, reviews and approvals")
        months = list(COST_MONTHS)
        finance = admin.acting_as("finn.berg")
        for offset, who, what, target, argument in TIMELINE:
            _alert_months_ended(finance, calendar, START + timedelta(days=offset), months)
            calendar.now = max(calendar.now, START + timedelta(days=offset))
            _act(admin.acting_as(who), what, target, argument, START + timedelta(days=offset))
        step("scenarios")
        for name, changes in SCENARIOS.items():
            owner = admin.acting_as("lena.fischer").outcomes.scenarios
            owner.save_scenario(name, "code-review", ScenarioChanges.parse(**changes))
        step("adoption: the org chart, several hundred people, surveys")
        with tempfile.TemporaryDirectory() as folder:
            load_demo_adoption(admin.acting_as("finn.berg"), Path(folder))
        _alert_months_ended(finance, calendar, None, months)
        admin.set_origin(DEMO_ORIGIN)
        present = {i.stage for i in admin.portfolio.initiatives()}
        stages = [s for s in STAGES if s in present]
        count = len(admin.portfolio.initiatives())
    return (
        f"Built the Northwind demo in {path}: {count} initiatives at stages "
        f"{', '.join(stages)}, {len(PEOPLE) + len(AGENT_ACCOUNTS) + 1} users ({actor} is admin).\n"
        "with 18 months of cost (cloud bills, LLM usage, people, data, operations) and a year\n"
        "of measured outcomes (counts, before/after, A/B tests, a regional rollout), and\n"
        f"adoption for {people_count()} pseudonymous people in "
        f"{sum(len(teams) for _, _, teams, _ in UNITS.values())} teams, with surveys.\n"
        f"Try: valuegap initiative list --db {path}\n"
        f"     valuegap report costs --by initiative --db {path}\n"
        f"     valuegap report portfolio --db {path}\n"
        f"     valuegap report adoption --db {path}"
    )


def _alert_months_ended(
    ledger: Ledger, calendar: _Calendar, until: datetime | None, months: list[date]
) -> None:
    """Raise the budgets' threshold alerts of the ``months`` that ended by ``until`` (None:
    all), each on the first day of the month after, when its bills arrive: the demo loads all
    its cost on its first day, when only January's period had begun."""
    while months and (until is None or next_month(months[0]) <= until.date()):
        calendar.now = max(calendar.now, datetime.combine(next_month(months.pop(0)), time(9)))
        ledger.costs.budgets.alert_thresholds([add_months(calendar.now.date(), -1)])


def _quietly(step: str) -> None:
    pass


def _act(ledger: Ledger, what: str, target: str, argument: Any, when: datetime) -> None:
    if what == "agree":
        ledger.portfolio.agree_metric(target, by="Finn Berg (Finance)", at=when.date())
    elif what == "advance":
        ledger.governance.gates.advance(target, argument)
    elif what == "try":
        try:
            ledger.governance.gates.advance(target, argument)
        except PolicyViolation:
            pass
        else:  # pragma: no cover - the timeline above is fixed
            raise AssertionError(f"{target} was meant to be refused")
    elif what == "policy":
        ledger.governance.apply_policy(argument, f"northwind/{target}.yaml")
    elif what == "review":
        ledger.governance.run_reviews(when.date())
    elif what == "authorize":  # "ACTION [AMOUNT [KEY=VALUE ...]]"
        action, *rest = argument.split()
        amount = Decimal(rest[0]) if rest else None
        ledger.agents.authorize(target, action, amount, dict(kv.split("=") for kv in rest[1:]))
    elif what == "attest":
        for control, evidence in EVIDENCE.items():
            ledger.portfolio.attest_control(target, control, evidence)
    elif what == "retire":
        ledger.governance.gates.retire(target, reason=RETIREMENT[0], learnings=RETIREMENT[1])
    else:  # pragma: no cover - the timeline above is fixed
        raise AssertionError(what)


def _make_room(path: Path, actor: str, replace: bool) -> None:
    if not path.exists():
        return
    try:
        database = Database.open(path, create=False)
    except ConfigError:
        origin = None
    else:
        origin = database.get_meta("origin")
        database.settle()  # the head may wait in the journal of a handle open in this process
        changed = database.get_meta("origin_head") != database.get_meta("audit_head")
        admins = {r["name"] for r in database.all("SELECT name FROM users WHERE role = 'admin'")}
        database.close()
    if origin != DEMO_ORIGIN:
        raise ConfigError(
            f"{path} exists and is not a demo ledger, so the demo will not replace it. "
            "Build the demo elsewhere with `valuegap demo --db demo.duckdb`."
        )
    if changed and not replace:
        raise ConfigError(
            f"{path} is a demo ledger that has changed since the demo built it (its audit log "
            "has entries since), so the demo will not replace it. `valuegap demo --replace` "
            "replaces it, as one of its admins; or build the demo elsewhere with --db."
        )
    if changed and actor not in admins:
        raise PermissionDenied(
            f"{actor} is not an admin of {path}: only its admins ({', '.join(sorted(admins))}) "
            "may replace a demo ledger that has changed."
        )
    path.unlink()
    Path(f"{path}.wal").unlink(missing_ok=True)

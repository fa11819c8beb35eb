"""The governance part of the ledger (``ledger.governance``): policies, reviews, an
initiative's governance detail, and the evaluation context that they, the stage gates
(``gates.py``) and the agents (``agents.py``) share.

Its sub-parts: ``.gates`` (stage moves and approvals, ``gates.py``), ``.audit`` (the audit log,
its verification and signed checkpoints, ``audit_api.py``), ``.users`` (users and their roles,
``users.py``), ``.credentials`` (passwords, API tokens and browser sessions, which the server
checks, ``credentials.py``) and ``.keys`` (the pseudonymisation key, ``adoption/key_api.py``:
who may see and rotate it is a governance matter; ``ledger.costs`` uses it to ingest person
data)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.governance import context as ctx
from valuegap.governance.policy import LAYERS, Policy, RuleResult, load_policy, parse_policy
from valuegap.governance.reviews import RecordedReview, Review, recommend
from valuegap.model.portfolio import Initiative
from valuegap.model.vocabulary import CONTROLS
from valuegap.months import add_months, months_between
from valuegap.records import record
from valuegap.results import to_data
from valuegap.session import Part, Session, built_on_first_use
from valuegap.store.governance import POLICY_TABLES, GovernanceStore
from valuegap.store.portfolio import INITIATIVE_TABLES, PortfolioStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.adoption.key_api import PseudonymKeys
    from valuegap.governance.audit_api import AuditLog
    from valuegap.governance.credentials import Credentials
    from valuegap.governance.gates import Gates
    from valuegap.governance.users import Users
    from valuegap.outcomes.api import Outcomes
    from valuegap.outcomes.facts import Facts
    from valuegap.outcomes.results import InitiativeReport
    from valuegap.portfolio.api import Initiatives

DEFAULT_POLICIES = Path(__file__).with_name("default_policies.yaml")
DEFAULT_POLICIES_SOURCE = "valuegap's default policy pack"
REVIEW_EVERY_MONTHS = 6

# What an initiative's part of a decision's context is made from (store/read_cache.py).
_INITIATIVE_CONTEXT_TABLES = INITIATIVE_TABLES | {
    "control_attestations",
    "stage_history",
    "reviews",
}


@record
class PolicyApplied:
    """What applying a policy file did: a new version of its layer and scope, or nothing (the
    same rules are in force already)."""

    layer: str
    scope: str | None
    rules: int  # how many rules it has
    version: int  # the version in force now
    changed: bool


@record
class PolicyVersion:
    """One version of a layer's (and scope's) policy: its rules' ids, and who applied it from
    which file, when."""

    layer: str
    scope: str | None
    version: int
    rules: list[str]
    source: str
    applied_at: datetime
    applied_by: str


@record
class ControlStatus:
    """A readiness control of an initiative: attested, with the evidence, who and when; or
    not yet."""

    attested: bool
    evidence: str | None = None
    attested_by: str | None = None
    attested_at: datetime | None = None


@record
class StageEvent:
    """A move in an initiative's stage history; ``decision`` is ``allow``, or ``approved`` for
    a move made on an approval, and ``rules`` the gate's rules that decided and its warnings."""

    from_stage: str | None  # none for the first, into proposed
    to_stage: str
    moved_at: datetime
    actor: str
    decision: str
    rules: list[RuleResult]
    reason: str | None  # a retirement's reason and learnings
    learnings: str | None


@record
class InitiativeDetail:
    initiative: Initiative
    review_date: date | None
    controls: dict[str, ControlStatus]  # by control, every one of them
    stage_history: list[StageEvent] = field(default_factory=list)  # oldest first

    def document(self) -> dict[str, Any]:
        """Its JSON form as one document: the initiative's fields, then the rest of its
        detail, at the top level (as ``valuegap initiative show`` and the API give it)."""
        return {
            **self.initiative.model_dump(mode="json"),
            "review_date": to_data(self.review_date),
            "controls": to_data(self.controls),
            "stage_history": to_data(self.stage_history),
        }


class Governance(Part):
    """The rules the council sets, and the reviews that hold initiatives to them."""

    def __init__(
        self,
        session: Session,
        initiatives: Initiatives,
        outcomes: Callable[[], Outcomes],
        keys: Callable[[], PseudonymKeys],
    ) -> None:
        super().__init__(session)
        self._portfolio = PortfolioStore(session.db)
        self._governance = GovernanceStore(session.db)
        self._initiatives = initiatives
        self._outcomes = outcomes  # the outcomes part, built when a review first needs it
        self._building = threading.RLock()
        self._keys = keys  # the ledger's key part, built when a key command first needs it

    # Its sub-parts, each built on first use (``user list`` needs no stage gates).

    @built_on_first_use
    def keys(self) -> PseudonymKeys:
        return self._keys()

    @built_on_first_use
    def gates(self) -> Gates:
        from valuegap.governance.gates import Gates

        return Gates(self._session, self._initiatives, self)

    @built_on_first_use
    def audit(self) -> AuditLog:
        from valuegap.governance.audit_api import AuditLog

        return AuditLog(self._session)

    @built_on_first_use
    def users(self) -> Users:
        from valuegap.governance.users import Users

        return Users(self._session, self._initiatives)

    @built_on_first_use
    def credentials(self) -> Credentials:
        from valuegap.governance.credentials import Credentials

        return Credentials(self._session)

    # Policies

    def apply_policy_file(self, path: Path) -> PolicyApplied:
        from valuegap.yamlio import read_file

        return self.apply_policy(read_file(path), str(path))

    def apply_policy(self, text: str, source: str) -> PolicyApplied:
        """Validate a policy file whole and make it the new version of its layer and scope.
        Applying the rules in force again changes nothing."""
        self._require("policy.write")
        return self._apply_policy(text, source)

    @writes
    def _apply_policy(self, text: str, source: str) -> PolicyApplied:
        in_force = self._policies()
        enterprise = [r.id for p in in_force if p.layer == "enterprise" for r in p.rules]
        policy = parse_policy(text, source, enterprise_ids=enterprise)
        self._check_scope(policy, source)
        scope = policy.scope or ""
        current = next(
            (p for p in in_force if (p.layer, p.scope) == (policy.layer, policy.scope)), None
        )
        if current is not None and current.rules_json() == policy.rules_json():
            return PolicyApplied(
                policy.layer, policy.scope, len(policy.rules), current.version, changed=False
            )
        with self._db.transaction():
            version = self._governance.add_policy(
                policy.layer, scope, policy.rules_json(), source, self._now(), self.actor
            )
            self._record(
                "policy.apply",
                "policy",
                policy.key,
                {"version": current.version, "rules": [r.id for r in current.rules]}
                if current
                else None,
                {
                    "version": version,
                    "source": source,
                    "rules": to_data(policy.rules),
                },
                changed=[("policies", {"layer": policy.layer, "scope": scope, "version": version})],
            )
        return PolicyApplied(policy.layer, policy.scope, len(policy.rules), version, changed=True)

    def load_default_policies(self) -> None:
        """The default pack as enterprise policy (in the caller's transaction)."""
        self._apply_policy(DEFAULT_POLICIES.read_text(encoding="utf-8"), DEFAULT_POLICIES_SOURCE)

    def policies(self) -> list[Policy]:
        """The policies in force: the newest version of each layer and scope."""
        self._require("read")
        return list(self._policies())

    def policies_in_force(self) -> list[PolicyVersion]:
        """The versions in force: the newest of each layer and scope."""
        self._require("read")
        return [_policy_version(row) for row in self._governance.current_policies()]

    def policy(self, layer: str, scope: str | None = None) -> Policy:
        """The policy in force for a layer (and a business unit or initiative below it)."""
        _check_layer(layer)
        for found in self.policies():
            if (found.layer, found.scope) == (layer, scope):
                return found
        raise NotFound(
            f"No policy for {layer}{' ' + scope if scope else ''} is in force; "
            "`Ledger.governance.policies()` shows them."
        )

    def _policies(self) -> tuple[Policy, ...]:
        """The policies in force, compiled, kept until a commit changes them: what every
        decision reads first."""

        def compiled() -> tuple[Policy, ...]:
            return tuple(
                load_policy(r["layer"], r["scope"], r["version"], r["rules"])
                for r in self._governance.current_policies()
            )

        return self._db.cached("policies_compiled", compiled, POLICY_TABLES)

    def policy_versions(self, layer: str, scope: str | None = None) -> list[PolicyVersion]:
        """Every version of a layer's (and scope's) policy, oldest first."""
        self._require("read")
        _check_layer(layer)
        found = self._governance.policy_versions(layer, scope or "")
        if not found:
            raise NotFound(
                f"No policy for {layer}{'/' + scope if scope else ''}; "
                "`Ledger.governance.policies()` shows the policies in force."
            )
        return [_policy_version(row) for row in found]

    def _check_scope(self, policy: Policy, source: str) -> None:
        if policy.layer == "enterprise":
            return
        initiatives = self._portfolio.initiatives()
        if policy.layer == "initiative" and policy.scope not in {i.id for i in initiatives}:
            raise ValidationError(
                f"{source} was refused; no rule was loaded.",
                [Problem(f"{source}: scope", "is not an initiative of this ledger", policy.scope)],
            )
        units = sorted({i.business_unit for i in initiatives})
        if policy.layer == "business_unit" and policy.scope not in units:
            raise ValidationError(
                f"{source} was refused; no rule was loaded.",
                [
                    Problem(
                        f"{source}: scope",
                        f"is not a business unit of this ledger ({', '.join(units) or 'none yet'})",
                        policy.scope,
                    )
                ],
            )

    # Reviews

    @writes
    def run_reviews(self, as_of: date | None = None) -> list[Review]:
        """Review every initiative whose review date has come, and record the
        recommendations."""
        self._require("review.run")
        today = self._now().date()
        if as_of is not None and as_of > today:
            raise ValidationError("A review is not run ahead of time.", [Problem(
                "as_of", f"must be today ({today}) or earlier: a review records what was known "
                "then, and sets the next review six months later", str(as_of))])  # fmt: skip
        as_of = as_of or today
        due = [
            (i, d)
            for i in self._initiatives.initiatives()
            if (d := self.next_review(i.id)) and d <= as_of
        ]
        if not due:
            return []
        facts = self._outcomes().facts()
        when = datetime.combine(as_of, time())
        reviews = []
        for initiative, review_date in due:
            context = self._evaluation_context(initiative, frozenset(), when)
            measured, report = self._measured(initiative, when, facts)
            context.update(measured)
            recommendation, reasons = recommend(
                context, report.validation_reason, self.settings.override_rate_threshold
            )
            reviews.append(
                Review(initiative.id, initiative.stage, review_date, as_of, recommendation, reasons)
            )
        with self._db.transaction():
            for review in reviews:
                self._governance.add_review(dataclasses.asdict(review), self._now(), self.actor)
                self._record(
                    "review.record",
                    "initiative",
                    review.initiative,
                    None,
                    to_data(review),
                    changed=[("reviews", {"initiative": review.initiative, "as_of": review.as_of})],
                )
        return reviews

    def reviews(self, initiative_id: str | None = None) -> list[RecordedReview]:
        """The recommendations recorded so far (of one initiative), oldest first; a
        contributor's, of their business units' initiatives."""
        if initiative_id is not None:
            self._initiatives.initiative(initiative_id)  # NotFound names it
        visible = {i.id for i in self._initiatives.initiatives()}
        return [
            RecordedReview(**row)
            for row in self._governance.reviews(initiative_id)
            if row["initiative"] in visible
        ]

    def initiative_detail(self, initiative_id: str) -> InitiativeDetail:
        """An initiative with its readiness controls, next review and stage history."""
        initiative = self._initiatives.initiative(initiative_id)
        attested = self._portfolio.attestations(initiative_id)
        controls = {
            c: ControlStatus(True, **attested[c]) if c in attested else ControlStatus(False)
            for c in CONTROLS
        }
        review = self.next_review(initiative_id)
        history = [
            StageEvent(**{**row, "rules": [RuleResult(**rule) for rule in row["rules"]]})
            for row in self._portfolio.stage_history(initiative_id)
        ]
        return InitiativeDetail(initiative, review, controls, history)

    def next_review(self, initiative_id: str) -> date | None:
        """Six months after entering mvp, then six months after each review; none once
        retired or before the MVP."""
        initiative = self._initiatives.initiative(initiative_id)
        entered = self._portfolio.stages_entered(initiative_id).get("mvp")
        if entered is None or initiative.stage == "retired":
            return None
        return _review_due(entered.date(), self._governance.last_review(initiative_id))

    def next_reviews(self) -> dict[str, date]:
        """``next_review`` of each initiative the actor may see that has one, by id: read in
        one query for them all."""
        clocks = self._governance.review_clocks()
        return {
            i.id: _review_due(clocks[i.id][0].date(), clocks[i.id][1])
            for i in self._initiatives.initiatives()
            if i.id in clocks and i.stage != "retired"
        }

    def recent_reviews(self, limit: int) -> list[RecordedReview]:
        """The ``limit`` reviews recorded last, latest first (a contributor's, of their
        business units' initiatives)."""
        visible = [i.id for i in self._initiatives.initiatives()]
        return [RecordedReview(**row) for row in self._governance.recorded_reviews(visible, limit)]

    # The evaluation context

    def _evaluation_context(
        self, initiative: Initiative, names: frozenset[str], now: datetime, **given: Any
    ) -> dict[str, Any]:
        """The documented context for ``initiative``; the measured names only if ``names``
        needs them. The gates and the agents evaluate their rules on it: it is theirs, not a
        result for a user (``context.CONTEXT`` documents it)."""
        context: dict[str, Any] = {
            "initiative": self._initiative_context(initiative, now),
            "now": now.replace(tzinfo=UTC),
            **given,
        }
        if names & ctx.MEASURED:
            context.update(self._measured(initiative, now, self._outcomes().facts())[0])
        return context

    def _initiative_context(self, initiative: Initiative, now: datetime) -> dict[str, Any]:
        """``initiative``'s part of the context on ``now``'s day, kept until the next commit
        that changes what it is made of (an agent's decisions change nothing of it). Those who
        read it do not change it."""

        def made() -> dict[str, Any]:
            return ctx.initiative_context(
                initiative,
                list(self._portfolio.attestations(initiative.id)),
                self._portfolio.stages_entered(initiative.id),
                now,
                self._governance.latest_review(initiative.id),
            )

        # For this initiative as read, not for another read of it or a changed copy.
        return self._db.cached_for(
            f"initiative_context {now.date()}", initiative, made, _INITIATIVE_CONTEXT_TABLES
        )

    def _measured(
        self, initiative: Initiative, now: datetime, facts: Facts
    ) -> tuple[dict[str, Any], InitiativeReport]:
        """The measured names as of ``now``, and the initiative report they come from."""
        from valuegap.outcomes.periods import Window
        from valuegap.outcomes.reports import initiative_report

        report = initiative_report(facts, initiative, Window(None, now.date()))
        expected, low = _expected_roi(
            initiative, self._portfolio.stages_entered(initiative.id), now
        )
        return ctx.measured_context(initiative, report, expected, low), report


def _policy_version(row: Mapping[str, Any]) -> PolicyVersion:
    """A stored policy version; its rules are stored as their policy file writes them."""
    return PolicyVersion(
        row["layer"],
        row["scope"] or None,  # the enterprise's is stored as ''
        row["version"],
        [rule["id"] for rule in json.loads(row["rules"])],
        row["source"],
        row["applied_at"],
        row["applied_by"],
    )


def _expected_roi(
    initiative: Initiative, entered: Mapping[str, datetime], now: datetime
) -> tuple[float | None, float | None]:
    """The ROI the business case projects for the whole months since the initiative entered
    ``poc``, and its band's lower edge; none without a case or a whole month."""
    from valuegap.forecast.ramp import Plan

    case, started = initiative.business_case, entered.get("poc")
    if case is None or started is None:
        return None, None
    plan, months = Plan.of(case), months_between(started.date(), now.date())
    band = plan.roi_band(months)
    return plan.roi(months), band[0] if band else None


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        allowed = f"must be one of {', '.join(LAYERS)}"
        raise ValidationError("Unknown policy layer.", [Problem("layer", allowed, layer)])


def _review_due(entered_mvp: date, last_review: date | None) -> date:
    """Six months after entering the MVP, or after the latest review if that came later."""
    first = add_months(entered_mvp, REVIEW_EVERY_MONTHS)
    if last_review is None or last_review < first:
        return first
    return add_months(last_review, REVIEW_EVERY_MONTHS)

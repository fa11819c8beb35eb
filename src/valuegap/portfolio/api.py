"""The portfolio part of the ledger (``ledger.portfolio``): reading initiatives and their
metrics, and changing them: ``apply`` (a portfolio file, all or nothing), a new initiative or
metric, finance's agreement to a method, and the attestation of a readiness control."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from valuegap.errors import NotFound, PermissionDenied, Problem, Stale, ValidationError
from valuegap.model.audit import canonical_json
from valuegap.model.portfolio import Initiative, InitiativeSpec, MetricSpec, Portfolio
from valuegap.model.vocabulary import CONTROLS, STAGES
from valuegap.portfolio.apply import Change, metric_fields, plan_apply
from valuegap.portfolio.portfolio_file import dump_portfolio, parse_portfolio
from valuegap.portfolio.validation import validated
from valuegap.records import record
from valuegap.results import to_data
from valuegap.session import Part, Session
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.users import UserStore
from valuegap.store.writer import writes
from valuegap.words import counted

# (kill criteria, where they are) -> their problems; governance's CEL check, given by Ledger
KillCriteriaCheck = Callable[[list[str], str], list[Problem]]
# called in apply's transaction when an initiative moves to another business unit: costs'
# refresh of every month's cost aggregates (cost follows the initiative), given by Ledger
UnitMoved = Callable[[], object]
GUARDED = frozenset({"risk_tier", "agent"})  # initiative fields only governance changes later


def version(item: Initiative | MetricSpec) -> str:
    """The version of an initiative or a metric as stored: a digest of every field it has
    (an initiative's metrics and stage among them), so that any change gives a new one."""
    text = canonical_json(to_data(item)) or ""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _check_version(what: str, item: Initiative | MetricSpec, expected: str | None) -> None:
    if expected is not None and version(item) != expected:
        raise Stale(
            f"{what} changed since version {expected} was read (it is now at version "
            f"{version(item)}); nothing was written. Read it again, then decide."
        )


@record
class ApplyResult:
    changes: list[Change]
    dry_run: bool = False

    def ids(self, kind: str) -> list[str]:
        return [f"{c.entity_type} {c.id}" for c in self.changes if c.kind == kind]


class Initiatives(Part):
    """The initiatives of the portfolio, as the session's actor sees and changes them."""

    def __init__(
        self,
        session: Session,
        check_kill_criteria: KillCriteriaCheck,
        unit_moved: UnitMoved,
    ) -> None:
        super().__init__(session)
        self._portfolio = PortfolioStore(session.db)
        self._users = UserStore(session.db)
        self._check_kill_criteria = check_kill_criteria
        self._unit_moved = unit_moved

    def initiatives(self, *, stage: str | None = None, unit: str | None = None) -> list[Initiative]:
        """The initiatives, or those at ``stage``, or of business ``unit``; a contributor sees
        only their business units' initiatives."""
        self._require("read")
        if stage is not None and stage not in STAGES:
            allowed = f"must be one of {', '.join(STAGES)}"
            raise ValidationError("Unknown stage.", [Problem("stage", allowed, stage)])
        found = self._portfolio.initiatives(stage=stage, unit=unit)
        units = self.units_in_scope()
        return found if units is None else [i for i in found if i.business_unit in units]

    def units_in_scope(self) -> tuple[str, ...] | None:
        """The business units the actor is limited to (a contributor's), or None for all."""
        return self._session.units_in_scope()

    def initiative(self, initiative_id: str) -> Initiative:
        """One initiative; a contributor finds only their business units' (another unit's is
        not found, as if it did not exist)."""
        self._require("read")
        found = self._portfolio.initiative(initiative_id)
        units = self.units_in_scope()
        if found is None or (units is not None and found.business_unit not in units):
            raise NotFound(
                f"There is no initiative {initiative_id!r}; `Ledger.portfolio.initiatives()` shows "
                "them."
            )
        return found.model_copy(deep=True)  # the stored one is shared by the ledger's cache

    def metrics(self, initiative_id: str | None = None) -> list[tuple[str, MetricSpec]]:
        """(initiative id, metric) pairs, optionally of one initiative (a contributor's: of
        their business units' initiatives)."""
        if initiative_id is not None:
            self.initiative(initiative_id)
            return self._portfolio.metrics(initiative_id)
        visible = {i.id for i in self.initiatives()}
        return [(owner, m) for owner, m in self._portfolio.metrics() if owner in visible]

    def metric(self, metric_id: str) -> MetricSpec:
        """One metric (a contributor finds only their business units')."""
        return self._metric(metric_id)[1]

    def _metric(self, metric_id: str) -> tuple[Initiative, MetricSpec]:
        """A metric and the initiative it measures."""
        owner = self._portfolio.metric_owner(metric_id)
        try:
            initiative = self.initiative(owner or "")
        except NotFound:
            owner = None
        if owner is None:
            raise NotFound(
                f"There is no metric {metric_id!r}; `Ledger.portfolio.metrics()` shows them."
            )
        return initiative, next(m for m in initiative.metrics if m.id == metric_id)

    def export(self) -> str:
        """The whole portfolio as a portfolio file (what ``apply`` reads)."""
        return dump_portfolio([i.spec() for i in self.initiatives()])

    def add_initiative(self, spec: InitiativeSpec | Mapping[str, Any]) -> Initiative:
        """Propose a new initiative (with its metrics, if it declares any)."""
        if not isinstance(spec, InitiativeSpec):
            spec = validated(InitiativeSpec, spec, "The initiative was not added.")
        if self._portfolio.initiative(spec.id) is not None:
            raise ValidationError(
                f"Initiative {spec.id!r} already exists.",
                [
                    Problem(
                        "id",
                        "is taken; change an initiative with `Ledger.portfolio.apply()`",
                        spec.id,
                    )
                ],
            )
        self.apply(Portfolio(initiatives=[spec]))
        return self.initiative(spec.id)

    def define_metric(
        self, initiative_id: str, metric: MetricSpec | Mapping[str, Any]
    ) -> MetricSpec:
        if not isinstance(metric, MetricSpec):
            metric = validated(MetricSpec, metric, "The metric was not defined.")
        initiative = self.initiative(initiative_id)
        owner = self._portfolio.metric_owner(metric.id)
        if owner is not None:
            raise ValidationError(
                f"Metric {metric.id!r} already exists (on initiative {owner!r}).",
                [Problem("id", "is taken; metric ids are unique in a ledger", metric.id)],
            )
        # the metrics as a file gives them (spec()): when the ledger recorded an agreement is
        # never given
        spec = initiative.spec()
        metrics = [*spec.metrics, metric]
        self.apply(Portfolio(initiatives=[spec.model_copy(update={"metrics": metrics})]))
        return metric

    @writes
    def update_initiative(
        self,
        initiative_id: str,
        spec: InitiativeSpec | Mapping[str, Any],
        *,
        expected_version: str | None = None,
    ) -> Initiative:
        """Change one initiative to ``spec`` (as ``apply`` would), if it is still at
        ``expected_version`` (else ``Stale``, and nothing is written)."""
        if not isinstance(spec, InitiativeSpec):
            spec = validated(InitiativeSpec, spec, f"Initiative {initiative_id} was not changed.")
        current = self.initiative(initiative_id)
        if spec.id != initiative_id:
            raise ValidationError(
                f"Initiative {initiative_id} was not changed.",
                [Problem("id", f"must be {initiative_id!r}: an id does not change", spec.id)],
            )
        _check_version(f"Initiative {initiative_id}", current, expected_version)
        self.apply(Portfolio(initiatives=[spec]))
        return self.initiative(initiative_id)

    @writes
    def update_metric(
        self,
        metric_id: str,
        metric: MetricSpec | Mapping[str, Any],
        *,
        expected_version: str | None = None,
    ) -> MetricSpec:
        """Change one metric to ``metric`` (as ``apply`` would), if it is still at
        ``expected_version`` (else ``Stale``, and nothing is written)."""
        if isinstance(metric, MetricSpec):  # as read: when its agreement was recorded is not given
            metric = metric.model_dump()
        metric = validated(MetricSpec, metric, f"Metric {metric_id} was not changed.")
        initiative, current = self._metric(metric_id)
        if metric.id != metric_id:
            raise ValidationError(
                f"Metric {metric_id} was not changed.",
                [Problem("id", f"must be {metric_id!r}: an id does not change", metric.id)],
            )
        _check_version(f"Metric {metric_id}", current, expected_version)
        spec = initiative.spec()  # the metrics as a file gives them, as in define_metric
        metrics = [metric if m.id == metric_id else m for m in spec.metrics]
        self.apply(Portfolio(initiatives=[spec.model_copy(update={"metrics": metrics})]))
        return self.metric(metric_id)

    def apply_file(self, path: Path, *, dry_run: bool = False) -> ApplyResult:
        from valuegap.yamlio import read_file

        return self.apply_text(read_file(path), str(path), dry_run=dry_run)

    def apply_text(self, text: str, source: str, *, dry_run: bool = False) -> ApplyResult:
        """Apply a portfolio file given as text (YAML, or JSON, which is YAML too) that came
        from ``source``, as ``apply``; a refusal names ``source``."""
        portfolio = parse_portfolio(text, source)
        try:
            return self.apply(portfolio, dry_run=dry_run)
        except ValidationError as error:  # refused after parsing: name the source all the same
            raise ValidationError(f"{source}: {error.summary}", error.problems) from None

    @writes
    def apply(self, portfolio: Portfolio, *, dry_run: bool = False) -> ApplyResult:
        """Create and update what ``portfolio`` declares, all or nothing. Idempotent: what is
        already as declared is left alone and writes no audit entry."""
        self._require("read")
        ids = [i.id for i in portfolio.initiatives]
        existing = {i.id: i for i in self._portfolio.initiatives(ids=ids)}
        owners = {m.id: owner for owner, m in self._portfolio.metrics()}
        changes = plan_apply(portfolio, existing, owners)
        specs = {s.id: s for s in portfolio.initiatives}
        changing = {c.id for c in changes if c.entity_type == "initiative"
                    and (c.kind == "create" or "kill_criteria" in c.fields)}  # fmt: skip
        problems = [
            p
            for n, s in enumerate(portfolio.initiatives)
            if s.id in changing
            for p in self._check_kill_criteria(
                s.kill_criteria, f"initiatives[{n}] ({s.id}).kill_criteria"
            )
        ]
        if problems:
            found = counted(len(problems), "problem")
            raise ValidationError(
                f"The portfolio was refused; nothing was applied. {found}:", problems
            )
        for change in changes:
            if change.kind == "unchanged":
                continue
            unit = specs[change.initiative_id].business_unit
            previous = existing.get(change.initiative_id)
            # Past proposed, the risk tier and an agent's guardrails (what gates and agent
            # rules rely on) are the governance role's to change, and only theirs.
            guarded = GUARDED & set(change.fields)
            if guarded and previous is not None and previous.stage != "proposed":
                user = self._users.get(self.actor)
                if user is not None and not user.may("policy.write"):
                    raise PermissionDenied(
                        f"{self.actor} may not change {' or '.join(sorted(guarded))} of "
                        f"{previous.id}: past 'proposed' the gates and agent rules rely on "
                        "them, so only the role governance or admin changes them."
                    )
                self._require("policy.write", initiative=change.initiative_id)
                if set(change.fields) <= GUARDED:
                    continue
            self._require("portfolio.write", unit, change.initiative_id)
            if previous is not None and previous.business_unit != unit:
                self._require("portfolio.write", previous.business_unit)
            if change.agreement_changed:
                self._require_agreement(change)
        if dry_run:
            return ApplyResult(changes, dry_run=True)
        now = self._now()
        metrics = {
            c.id: _recorded(c.metric, now) if c.agreement_changed else c.metric
            for c in changes
            if c.metric is not None
        }
        with self._db.transaction():
            for change in changes:
                if change.kind == "unchanged":
                    continue
                self._write(change, specs, metrics)
            # Cost follows an initiative to its business unit, in every month.
            if any(c.kind == "update" and "business_unit" in c.fields for c in changes):
                self._unit_moved()
        return ApplyResult(changes)

    def _require_agreement(self, change: Change) -> None:
        """Only finance agrees a method, by any path; an agreement is never dated ahead."""
        assert change.metric is not None and change.metric.agreed_at is not None
        user = self._users.get(self.actor)
        if user is not None and not user.may("metric.agree"):
            raise PermissionDenied(
                f"{change.where}.agreed_by: {self.actor} ({user.role}) may not agree the "
                f"attribution method of {change.id}; only finance does. Remove agreed_by and "
                "agreed_at, and ask a finance user to agree it: "
                f"`Ledger.portfolio.agree_metric({change.id!r})`."
            )
        self._require("metric.agree", initiative=change.initiative_id)
        if change.metric.agreed_at > self._now().date():
            raise ValidationError(
                "The portfolio was refused; nothing was applied. 1 problem:",
                [
                    Problem(
                        f"{change.where}.agreed_at", _FUTURE_AGREEMENT, str(change.metric.agreed_at)
                    )
                ],
            )

    def _write(
        self, change: Change, specs: dict[str, InitiativeSpec], metrics: dict[str, MetricSpec]
    ) -> None:
        now = self._now()
        action = f"{change.entity_type}.{change.kind}"
        if change.entity_type == "initiative":
            spec = specs[change.id]
            if change.kind == "create":
                self._portfolio.insert_initiative(spec, now)
                self._portfolio.add_stage_event(
                    spec.id, None, "proposed", at=now, actor=self.actor, decision="allow", rules=[]
                )
            else:
                self._portfolio.update_initiative(spec)
        elif change.kind == "create":
            self._portfolio.insert_metric(change.initiative_id, metrics[change.id])
        else:
            self._portfolio.update_metric(metrics[change.id])
        table = "initiatives" if change.entity_type == "initiative" else "metrics"
        changed = [(table, {"id": change.id})]
        if action == "initiative.create":
            changed.append(("stage_history", {"initiative_id": change.id}))
        self._record(
            action, change.entity_type, change.id, change.before, change.after, changed=changed
        )

    @writes
    def agree_metric(
        self,
        metric_id: str,
        *,
        by: str,
        at: date | None = None,
        expected_version: str | None = None,
    ) -> MetricSpec:
        """Record finance's agreement to a metric's attribution method (if the metric is still
        at ``expected_version``, when given: else ``Stale``)."""
        initiative, metric = self._metric(metric_id)
        owner = initiative.id
        self._require("metric.agree", initiative=owner)
        _check_version(f"Metric {metric_id}", metric, expected_version)
        if metric.method is None:
            raise ValidationError(
                f"Metric {metric_id!r} has no attribution method to agree.",
                [Problem("method", "set a method (direct, before_after, ab_test, diff_in_diff)")],
            )
        now = self._now()
        if at is not None and at > now.date():
            raise ValidationError(
                f"The agreement to {metric_id!r} was not recorded.",
                [Problem("at", _FUTURE_AGREEMENT, at.isoformat())],
            )
        agreed = metric.model_copy(
            update={"agreed_by": by, "agreed_at": at or now.date(), "agreement_recorded": now}
        )
        with self._db.transaction():
            self._portfolio.update_metric(agreed)
            self._record(
                "metric.agree",
                "metric",
                metric_id,
                metric_fields(metric),
                metric_fields(agreed),
                changed=[("metrics", {"id": metric_id})],
            )
        return agreed

    @writes
    def attest_control(self, initiative_id: str, control: str, evidence: str) -> None:
        initiative = self.initiative(initiative_id)
        self._require("control.attest", initiative.business_unit, initiative_id)
        problems = []
        if control not in CONTROLS:
            problems.append(Problem("control", f"must be one of {', '.join(CONTROLS)}", control))
        if not evidence.strip():
            problems.append(Problem("evidence", "is required: say where the proof is"))
        if problems:
            raise ValidationError("The attestation was not recorded.", problems)
        before = self._portfolio.attestations(initiative_id).get(control)
        now = self._now()
        with self._db.transaction():
            self._portfolio.attest(initiative_id, control, evidence, self.actor, now)
            self._record(
                "control.attest",
                "initiative",
                initiative_id,
                before and {"control": control, **before},
                {"control": control, "evidence": evidence},
                changed=[
                    ("control_attestations", {"initiative_id": initiative_id, "control": control})
                ],
            )


_FUTURE_AGREEMENT = (
    "is in the future: a sign-off is dated when it was given (the ledger judges 'agreed in "
    "advance' by when it recorded it)"
)


def _recorded(metric: MetricSpec, now: datetime) -> MetricSpec:
    """``metric`` with its agreement recorded ``now``."""
    return metric.model_copy(update={"agreement_recorded": now})

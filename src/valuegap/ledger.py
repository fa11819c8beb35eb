"""``Ledger``: the one object that the CLI, the web app and the tests call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from valuegap.adoption.key_api import PseudonymKeyApi
from valuegap.costs.aggregates import fingerprint
from valuegap.costs.api import CostsApi
from valuegap.costs.prices_api import PricesApi
from valuegap.costs.removal import RemovalApi
from valuegap.errors import (
    NotFound,
    PermissionDenied,
    Problem,
    ValidationError,
)
from valuegap.governance import roles
from valuegap.governance.agents import AgentsApi
from valuegap.governance.api import GovernanceApi
from valuegap.governance.audit import AuditEntry
from valuegap.governance.audit_api import AuditApi
from valuegap.governance.duties import check_duties
from valuegap.governance.gates import GatesApi
from valuegap.governance.reviews import check_kill_criteria
from valuegap.governance.roles import Permission, User
from valuegap.outcomes.api import OutcomesApi
from valuegap.portfolio.apply import Change, metric_fields, plan_apply
from valuegap.portfolio.model import Initiative, InitiativeSpec, MetricSpec, Portfolio
from valuegap.portfolio.portfolio_file import dump_portfolio, parse_portfolio
from valuegap.portfolio.validation import validated
from valuegap.portfolio.vocabulary import CONTROLS
from valuegap.settings import Settings, acting_user, load_settings
from valuegap.store import Database
from valuegap.store.aggregates import AggregateStore
from valuegap.store.audit import AuditStore
from valuegap.store.costs import CostStore
from valuegap.store.database import utcnow
from valuegap.store.governance import GovernanceStore
from valuegap.store.portfolio import PortfolioStore
from valuegap.store.users import UserStore
from valuegap.yamlio import read_file

Clock = Callable[[], datetime]
BASELINE_ACTOR = "valuegap"  # who records the baseline of a ledger written before
GUARDED = frozenset({"risk_tier", "agent"})  # initiative fields only governance changes later


@dataclass(frozen=True)
class ApplyResult:
    changes: list[Change]
    dry_run: bool = False

    def ids(self, kind: str) -> list[str]:
        return [f"{c.entity_type} {c.id}" for c in self.changes if c.kind == kind]


@dataclass(frozen=True)
class InitiativeDetail:
    initiative: Initiative
    review_date: date | None
    controls: dict[str, dict[str, Any]]
    stage_history: list[dict[str, Any]] = field(default_factory=list)


class Ledger(
    CostsApi,
    PricesApi,
    RemovalApi,
    OutcomesApi,
    GovernanceApi,
    GatesApi,
    AgentsApi,
    PseudonymKeyApi,
    AuditApi,
):
    """An open ledger, acting as one user. Use as a context manager, or call ``close``."""

    def __init__(
        self,
        db: Database,
        *,
        actor: str,
        settings: Settings,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self.actor = actor
        self.settings = settings
        self._clock = clock
        self._portfolio = PortfolioStore(db)
        self._users = UserStore(db)
        self._audit = AuditStore(db)
        self._costs = CostStore(db)
        self._governance = GovernanceStore(db)

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        *,
        actor: str | None = None,
        settings: Settings | None = None,
        clock: Clock = utcnow,
    ) -> Ledger:
        """Open an existing ledger (``db``, else the settings' ``db``), upgrading its schema. A
        ledger from before policies existed gets the default policy pack, so that its gates
        hold from the first move."""
        ledger = cls._connect(db, actor, settings, clock, create=False)
        if AggregateStore(ledger._db).built_for() is None:  # a ledger from before them
            with ledger._closed_on_error(), ledger._db.transaction():
                ledger._costs.refresh_usage_by_month(None)
                ledger._refresh_aggregates(None)
        if ledger._audit.baseline_pending():
            with ledger._closed_on_error(), ledger._db.transaction():
                ledger.acting_as(BASELINE_ACTOR)._record_baseline()
        known = ledger._users.get(ledger.actor) is not None
        if known and not ledger._governance.current_policies():
            with ledger._closed_on_error(), ledger._db.transaction():
                ledger._load_default_policies()
        return ledger

    @classmethod
    def init(
        cls,
        db: str | Path | None = None,
        *,
        actor: str | None = None,
        settings: Settings | None = None,
        clock: Clock = utcnow,
    ) -> Ledger:
        """Create a new ledger; the acting user becomes its first admin. The default policy pack
        (the stage gates and agent guardrails) is its first enterprise policy."""
        ledger = cls._connect(db, actor, settings, clock, create=True)
        with ledger._closed_on_error(), ledger._db.transaction():
            admin = User(ledger.actor, "admin")
            ledger._users.save(admin, by=ledger.actor, at=ledger._now())
            ledger._record(
                "ledger.init",
                "ledger",
                "ledger",
                None,
                {"admin": admin.name},
                changed=[("users", {"name": admin.name})],
            )
            ledger._load_default_policies()
            AggregateStore(ledger._db).replace(None, [], fingerprint(ledger.settings))
            ledger._costs.refresh_usage_by_month(None)
        return ledger

    @contextmanager
    def _closed_on_error(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.close()
            raise

    @classmethod
    def _connect(
        cls,
        db: str | Path | None,
        actor: str | None,
        settings: Settings | None,
        clock: Clock,
        *,
        create: bool,
    ) -> Ledger:
        settings = settings or load_settings({"db": db})
        database = Database.open(
            Path(db or settings.db), create=create, memory_limit=settings.memory_limit
        )
        return cls(database, actor=acting_user(actor), settings=settings, clock=clock)

    def acting_as(self, actor: str) -> Ledger:
        """The same open ledger, acting as another user (e.g. one web request's user)."""
        return Ledger(self._db, actor=actor, settings=self.settings, clock=self._clock)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._db.path

    def progress(self) -> float | None:
        """How far the ledger's running statement is (0-100), for a progress bar; None when
        there is none. Call it from another thread than the one doing the work."""
        return self._db.progress()

    # Users

    def add_user(
        self,
        name: str,
        role: str | None = None,
        units: list[str] | None = None,
        *,
        agent: str | None = None,
    ) -> User:
        """Add a user, or change an existing user's role and units. With ``agent``, the user is
        that agent initiative's service account (by default a contributor in its unit), bound
        by the separation of duties."""
        self._require("user.manage")
        if agent is not None:
            role, units = self._agent_account(agent, role, units)
        if role is None:
            raise ValidationError(
                f"User {name!r} was not saved.",
                [Problem("role", "is required: viewer, contributor, finance, governance or admin")],
            )
        user = User(name, role, tuple(units or ()), agent)  # type: ignore[arg-type]
        before = self._users.get(name)
        with self._db.transaction():
            self._users.save(user, by=self.actor, at=self._now())
            self._record(
                "user.save",
                "user",
                name,
                before and _user_fields(before),
                _user_fields(user),
                changed=[("users", {"name": name})],
            )
        return user

    def _agent_account(
        self, agent: str, role: str | None, units: list[str] | None
    ) -> tuple[str, list[str] | None]:
        """The role and units of the service account of ``agent``, which must be an agent."""
        initiative = self.initiative(agent)
        if initiative.kind != "agent":
            raise ValidationError(
                "The agent's account was not saved.",
                [Problem("agent", f"{agent} is a {initiative.kind}, not an agent", agent)],
            )
        if role is None:
            return "contributor", units or [initiative.business_unit]
        return role, units

    def users(self) -> list[User]:
        self._require("read")
        return self._users.all()

    # Reading the portfolio

    def initiatives(self, *, stage: str | None = None, unit: str | None = None) -> list[Initiative]:
        self._require("read")
        return self._portfolio.initiatives(stage=stage, unit=unit)

    def initiative(self, initiative_id: str) -> Initiative:
        self._require("read")
        found = self._portfolio.initiative(initiative_id)
        if found is None:
            raise NotFound(
                f"There is no initiative {initiative_id!r}; `valuegap initiative list` shows them."
            )
        return found.model_copy(deep=True)  # the stored one is shared by the ledger's cache

    def initiative_detail(self, initiative_id: str) -> InitiativeDetail:
        initiative = self.initiative(initiative_id)
        attested = self._portfolio.attestations(initiative_id)
        controls = {c: {"attested": c in attested, **attested.get(c, {})} for c in CONTROLS}
        review = self.next_review(initiative_id)
        history = self._portfolio.stage_history(initiative_id)
        return InitiativeDetail(initiative, review, controls, history)

    def metrics(self, initiative_id: str | None = None) -> list[tuple[str, MetricSpec]]:
        """(initiative id, metric) pairs, optionally of one initiative."""
        if initiative_id is not None:
            self.initiative(initiative_id)
        else:
            self._require("read")
        return self._portfolio.metrics(initiative_id)

    def export(self) -> str:
        """The whole portfolio as a portfolio file (what ``apply`` reads)."""
        return dump_portfolio([i.spec() for i in self.initiatives()])

    # Changing the portfolio

    def add_initiative(self, spec: InitiativeSpec | Mapping[str, Any]) -> Initiative:
        """Propose a new initiative (with its metrics, if it declares any)."""
        if not isinstance(spec, InitiativeSpec):
            spec = validated(InitiativeSpec, spec, "The initiative was not added.")
        if self._portfolio.initiative(spec.id) is not None:
            raise ValidationError(
                f"Initiative {spec.id!r} already exists.",
                [Problem("id", "is taken; change an initiative with `valuegap apply`", spec.id)],
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
        spec = initiative.spec().model_copy(update={"metrics": [*initiative.metrics, metric]})
        self.apply(Portfolio(initiatives=[spec]))
        return metric

    def apply_file(self, path: Path, *, dry_run: bool = False) -> ApplyResult:
        return self.apply(parse_portfolio(read_file(path), str(path)), dry_run=dry_run)

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
            for p in check_kill_criteria(
                s.kill_criteria, f"initiatives[{n}] ({s.id}).kill_criteria"
            )
        ]
        if problems:
            raise ValidationError(
                f"The portfolio was refused; nothing was applied. {len(problems)} problem(s):",
                problems,
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
                self._refresh_aggregates(None)
        return ApplyResult(changes)

    def _require_agreement(self, change: Change) -> None:
        """Only finance agrees a method, by any path; an agreement is never dated ahead."""
        assert change.metric is not None and change.metric.agreed_at is not None
        user = self._users.get(self.actor)
        if user is not None and not user.may("metric.agree"):
            raise PermissionDenied(
                f"{change.where}.agreed_by: {self.actor} ({user.role}) may not agree the "
                f"attribution method of {change.id}; only finance does. Remove agreed_by and "
                f"agreed_at, and ask a finance user to run `valuegap metric agree {change.id}`."
            )
        self._require("metric.agree", initiative=change.initiative_id)
        if change.metric.agreed_at > self._now().date():
            raise ValidationError(
                "The portfolio was refused; nothing was applied. 1 problem(s):",
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

    def agree_metric(self, metric_id: str, *, by: str, at: date | None = None) -> MetricSpec:
        """Record finance's agreement to a metric's attribution method."""
        owner = self._portfolio.metric_owner(metric_id)
        if owner is None:
            raise NotFound(f"There is no metric {metric_id!r}; `valuegap metric list` shows them.")
        metric = next(m for m in self.initiative(owner).metrics if m.id == metric_id)
        self._require("metric.agree", initiative=owner)
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

    # The audit log

    def audit_log(
        self, *, entity_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Newest first."""
        self._require("read")
        return list(self._audit.entries(entity_id=entity_id, limit=limit, newest_first=True))

    # Internals

    def _require(
        self, permission: Permission, unit: str | None = None, initiative: str | None = None
    ) -> None:
        """Raise ``PermissionDenied`` unless the actor may do ``permission`` (in business unit
        ``unit``, to ``initiative``): by their role, and by the separation of duties."""
        user = self._users.get(self.actor)
        if user is not None:
            check_duties(user, permission, initiative)
        roles.require(user, self.actor, permission, unit)

    def _now(self) -> datetime:
        return self._clock()

    def set_origin(self, origin: str) -> None:
        """Say what made this ledger (the demo), and as of which audit entry: a later change
        shows as a later head."""
        self._db.set_meta("origin", origin)
        self._db.set_meta("origin_head", self._db.get_meta("audit_head") or "")


def _user_fields(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "units": list(user.units), "agent": user.agent}


_FUTURE_AGREEMENT = (
    "is in the future: a sign-off is dated when it was given (the ledger judges 'agreed in "
    "advance' by when it recorded it)"
)


def _recorded(metric: MetricSpec, now: datetime) -> MetricSpec:
    """``metric`` with its agreement recorded ``now``."""
    return metric.model_copy(update={"agreement_recorded": now})

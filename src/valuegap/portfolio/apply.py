"""Plan what applying a portfolio file changes, before anything is written.

``apply`` is declarative and additive: what the file declares is created or updated; what the
ledger holds and the file does not mention is left alone (never deleted); stages never change.
"""

from __future__ import annotations

from dataclasses import field, replace
from typing import Literal

from valuegap.errors import Problem, ValidationError
from valuegap.model.portfolio import Initiative, InitiativeSpec, MetricSpec, Portfolio
from valuegap.records import record
from valuegap.results import Record
from valuegap.words import counted

ChangeKind = Literal["create", "update", "unchanged"]


@record
class Change:
    kind: ChangeKind
    entity_type: Literal["initiative", "metric"]
    id: str
    initiative_id: str
    before: Record | None  # the fields as stored (None: created)
    after: Record  # as declared
    fields: list[str] = field(default_factory=list)
    metric: MetricSpec | None = None  # for a metric: what is written
    where: str = ""  # where the file declares it

    @property
    def agreement_changed(self) -> bool:
        """A metric whose finance agreement this change makes (or changes)."""
        if self.entity_type != "metric":
            return False
        if self.kind == "create":
            return self.after.get("agreed_at") is not None
        return any(f in AGREEMENT for f in self.fields) and self.after.get("agreed_at") is not None


AGREEMENT = ("agreed_by", "agreed_at")


def initiative_fields(spec: InitiativeSpec) -> Record:
    """An initiative's own fields (its metrics are changes of their own)."""
    return spec.model_dump(exclude={"metrics", "stage"})


def metric_fields(metric: MetricSpec) -> Record:
    return metric.model_dump()


def plan_apply(
    portfolio: Portfolio, existing: dict[str, Initiative], metric_owners: dict[str, str]
) -> list[Change]:
    """The changes the file asks for, or ``ValidationError`` listing every conflict with the
    ledger. ``metric_owners`` maps each metric id in the ledger to its initiative."""
    changes: list[Change] = []
    problems: list[Problem] = []
    for n, spec in enumerate(portfolio.initiatives):
        where = f"initiatives[{n}] ({spec.id})"
        current = existing.get(spec.id)
        changes.append(
            _diff(
                "initiative",
                spec.id,
                spec.id,
                initiative_fields(current) if current else None,
                initiative_fields(spec),
            )
        )
        if current and current.stage != "proposed" and spec.risk_tier == "prohibited":
            problems.append(
                Problem(
                    f"{where}.risk_tier",
                    f"the initiative is at stage {current.stage!r}; a prohibited initiative cannot "
                    "be past 'proposed': retire it with `Ledger.governance.gates.retire()`",
                    spec.risk_tier,
                )
            )
        stored = {m.id: m for m in current.metrics} if current else {}
        for k, metric in enumerate(spec.metrics):
            owner = metric_owners.get(metric.id)
            if owner is not None and owner != spec.id:
                problems.append(
                    Problem(
                        f"{where}.metrics[{k}].id",
                        f"already belongs to initiative {owner!r} (metric ids are unique)",
                        metric.id,
                    )
                )
                continue
            before = stored.get(metric.id)
            if "agreement_recorded" in metric.model_fields_set:
                problems.append(
                    Problem(
                        f"{where}.metrics[{k}].agreement_recorded",
                        "is the time the ledger recorded an agreement, never given: remove it",
                        metric.agreement_recorded,
                    )
                )
            metric = _kept_agreement(metric, before)
            if (
                before is not None
                and before.agreed
                and metric.method != before.method
                and (metric.agreed_by, metric.agreed_at) == (before.agreed_by, before.agreed_at)
            ):
                problems.append(
                    Problem(
                        f"{where}.metrics[{k}].method",
                        f"finance agreed the method {before.method!r}; a new method needs a new "
                        "agreement: remove agreed_by and agreed_at, then "
                        "`Ledger.portfolio.agree_metric()`",
                        metric.method,
                    )
                )
            change = _diff(
                "metric",
                metric.id,
                spec.id,
                metric_fields(before) if before else None,
                metric_fields(metric),
            )
            changes.append(replace(change, metric=metric, where=f"{where}.metrics[{k}]"))
    if problems:
        raise ValidationError(
            f"The portfolio was refused; nothing was applied. {counted(len(problems), 'problem')}:",
            problems,
        )
    return changes


def _kept_agreement(metric: MetricSpec, before: MetricSpec | None) -> MetricSpec:
    """The metric to write: a file that does not mention the agreement leaves the stored one
    (unless it changes the method, which voids it); an unchanged agreement keeps the time it
    was recorded."""
    if before is None or not before.agreed:
        return metric
    mentioned = bool(set(AGREEMENT) & metric.model_fields_set)
    if not mentioned and metric.method == before.method:
        kept = {f: getattr(before, f) for f in (*AGREEMENT, "agreement_recorded")}
        return metric.model_copy(update=kept)
    if (metric.agreed_by, metric.agreed_at) == (before.agreed_by, before.agreed_at):
        return metric.model_copy(update={"agreement_recorded": before.agreement_recorded})
    return metric


def _diff(
    entity_type: Literal["initiative", "metric"],
    entity_id: str,
    initiative_id: str,
    before: Record | None,
    after: Record,
) -> Change:
    if before is None:
        return Change("create", entity_type, entity_id, initiative_id, None, after)
    changed = [name for name in after if after[name] != before.get(name)]
    kind: ChangeKind = "update" if changed else "unchanged"
    return Change(kind, entity_type, entity_id, initiative_id, before, after, changed)

"""Who may do what: five roles, contributors scoped to business units, and agents' service
accounts (whose separation of duties ``duties.py`` holds)."""

from __future__ import annotations

from dataclasses import field
from typing import Literal, get_args

from valuegap.errors import PermissionDenied, Problem, ValidationError
from valuegap.records import record

Role = Literal["viewer", "contributor", "finance", "governance", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

Permission = Literal[
    "read",
    "portfolio.write",  # create and change initiatives and metrics
    "stage.move",  # advance and retire initiatives
    "control.attest",  # attest readiness controls
    "metric.agree",  # the finance sign-off of an attribution method
    "cost.write",  # ingest costs and usage, set prices and rates
    "rules.write",  # apply allocation rules
    "outcome.write",  # ingest observations, outcome counts, behaviour, quality, capacity
    "adoption.write",  # ingest the org chart, adoption records and surveys; apply retention
    "policy.write",  # apply policy files
    "approval.decide",  # approve or reject a stage move that a gate sent for approval
    "review.run",  # run scale-or-kill reviews and record their recommendations
    "agent.act",  # ask whether an agent may take an action (the agent's own service user)
    "user.manage",
    "key.manage",  # show, restore and rotate the pseudonymisation key
]

# An admin may do everything, including recording a finance sign-off (the audit log shows who
# recorded it); among the other roles only finance may agree an attribution method.
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "contributor": frozenset(
        {"read", "portfolio.write", "stage.move", "control.attest", "agent.act"}
    ),
    "finance": frozenset(
        {"read", "metric.agree", "cost.write", "rules.write", "outcome.write", "adoption.write"}
    ),
    "governance": frozenset(
        {
            "read",
            "stage.move",
            "control.attest",
            "policy.write",
            "approval.decide",
            "review.run",
            "agent.act",
        }
    ),
    "admin": frozenset(get_args(Permission)),
}

SCOPED_ROLES = frozenset({"contributor"})


@record
class User:
    name: str
    role: Role
    units: tuple[str, ...] = field(default=())
    agent: str | None = None  # the agent initiative this service account acts for

    def __post_init__(self) -> None:
        problems = []
        if self.role not in ROLES:
            problems.append(Problem("role", f"must be one of {', '.join(ROLES)}", self.role))
        if self.role in SCOPED_ROLES and not self.units:
            problems.append(
                Problem("units", "a contributor is scoped to business units: give `units`")
            )
        if self.role not in SCOPED_ROLES and self.units:
            problems.append(Problem("units", f"only a contributor has units, not {self.role}"))
        if self.agent is not None and self.role == "admin":
            problems.append(
                Problem(
                    "role",
                    "an agent's account cannot be an admin: an admin manages users, policies "
                    "and the key, which an agent's account never does",
                    self.role,
                )
            )
        if problems:
            raise ValidationError(f"User {self.name!r} was not saved.", problems)

    def may(self, permission: Permission, business_unit: str | None = None) -> bool:
        if permission not in GRANTS[self.role]:
            return False
        return not (
            self.role in SCOPED_ROLES
            and business_unit is not None
            and business_unit not in self.units
        )


def require(user: User | None, name: str, permission: Permission, unit: str | None = None) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may do ``permission`` (in ``unit``)."""
    if user is None:
        raise PermissionDenied(
            f"{name!r} is not a user of this ledger. An admin can add them with "
            f"`Ledger.governance.users.add_user({name!r}, 'viewer')` (or another role)."
        )
    if user.may(permission, unit):
        return
    holders = [role for role, grants in GRANTS.items() if permission in grants]
    where = f" in business unit {unit!r}" if unit else ""
    scope = f" (scoped to {', '.join(user.units)})" if user.units else ""
    raise PermissionDenied(
        f"{name} ({user.role}{scope}) may not {_DESCRIPTIONS[permission]}{where}; "
        f"this needs the role {' or '.join(holders)}."
    )


def describe(permission: Permission) -> str:
    """What ``permission`` allows, as the end of "may not ..."."""
    return _DESCRIPTIONS[permission]


_DESCRIPTIONS: dict[str, str] = {
    "read": "read this ledger",
    "portfolio.write": "create or change initiatives and metrics",
    "stage.move": "move initiatives between stages",
    "control.attest": "attest readiness controls",
    "metric.agree": "agree an attribution method",
    "cost.write": "ingest costs or change prices and rates",
    "rules.write": "change allocation rules",
    "outcome.write": "ingest measured outcomes",
    "adoption.write": "ingest adoption data or apply its retention",
    "policy.write": "apply policies",
    "approval.decide": "approve or reject stage moves",
    "review.run": "run reviews",
    "agent.act": "ask for an agent's authorisation",
    "user.manage": "add or change users",
    "key.manage": "manage the pseudonymisation key",
}

"""Separation of duties: no one vouches for themselves.

An agent acts through its own service account: a user whose ``agent`` names the agent
initiative it acts for. Whatever its role, such an account

- takes none of the judgements that people take: it does not move initiatives between stages
  or retire them, approve or reject, agree an attribution method, run reviews, or change users,
  policies, allocation rules or the pseudonymisation key;
- never vouches for its own initiative: it does not attest its controls, nor change it (its
  metrics, kill criteria or guardrails);
- asks for its own agent's authorisation only.

Whatever else its role allows (reading; recording what the role records) stays allowed.
"""

from __future__ import annotations

from valuegap.errors import PermissionDenied
from valuegap.model.roles import Permission, User, describe

NEVER: frozenset[Permission] = frozenset(
    {
        "stage.move",
        "approval.decide",
        "metric.agree",
        "review.run",
        "policy.write",
        "rules.write",
        "user.manage",
        "key.manage",
    }
)
NOT_FOR_ITS_OWN: frozenset[Permission] = frozenset({"control.attest", "portfolio.write"})
ONLY_FOR_ITS_OWN: frozenset[Permission] = frozenset({"agent.act"})

RULE = (
    "separation of duties: an agent's service account never moves or retires initiatives, "
    "approves, agrees methods, runs reviews or changes users, policies, allocation rules or the "
    "key; it never attests or changes its own initiative, and asks only for its own agent's "
    "actions. A person with the role does these"
)


def check_duties(user: User, permission: Permission, initiative: str | None = None) -> None:
    """Raise ``PermissionDenied`` if ``user`` is an agent's account that may not do
    ``permission`` (to ``initiative``, where one is concerned), whatever its role."""
    own = user.agent
    if own is None:
        return
    if permission in NEVER:
        refused = True
    elif permission in NOT_FOR_ITS_OWN:
        refused = initiative == own
    elif permission in ONLY_FOR_ITS_OWN:
        refused = initiative is not None and initiative != own
    else:
        refused = False
    if not refused:
        return
    here = ""
    if initiative is not None:
        here = f", here {initiative}" + (" (its own initiative)" if initiative == own else "")
    raise PermissionDenied(
        f"{user.name} acts for agent {own}, so it may not {describe(permission)}{here}: {RULE}."
    )

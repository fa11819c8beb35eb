"""The users of the ledger (``ledger.governance.users``): adding a user or changing a user's
role and units, and agents' service accounts; the roles are ``model/roles.py``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from valuegap.errors import Problem, ValidationError
from valuegap.model.roles import User
from valuegap.session import Part, Session
from valuegap.store.users import UserStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.portfolio.api import Initiatives


class Users(Part):
    """Who may use the ledger, and in which role."""

    def __init__(self, session: Session, initiatives: Initiatives) -> None:
        super().__init__(session)
        self._users = UserStore(session.db)
        self._initiatives = initiatives

    @writes
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
        initiative = self._initiatives.initiative(agent)
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


def _user_fields(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "units": list(user.units), "agent": user.agent}

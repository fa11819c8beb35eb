"""``Ledger``: the one object that the CLI, the web app and the tests call.

A ledger holds its parts, each built from one ``Session`` (database, actor, clock, settings,
permission check, audit record) and given the parts it needs:

- ``ledger.portfolio``: initiatives and metrics (``portfolio/api.py``);
- ``ledger.costs``: ingest of costs and usage, allocation rules, cost reports, reconciliation
  (``costs/api.py``), with ``ledger.costs.prices`` (organisation prices, ``prices_api.py``)
  and ``ledger.costs.removal`` (taking wrong lines out, ``removal.py``);
- ``ledger.outcomes``: measured data and the value reports (``outcomes/api.py``);
- ``ledger.statements``: business units' showback and chargeback statements, chargeback
  switched on and months closed by finance (``outcomes/statements.py``);
- ``ledger.governance``: policies, reviews and an initiative's governance detail
  (``governance/api.py``), with ``.gates`` (stage moves and approvals), ``.audit`` (the audit
  log, its verification and checkpoints), ``.users`` (users and roles) and ``.keys`` (the
  pseudonymisation key, which every ingest of person data checks);
- ``ledger.adoption``: the org chart, adoption records and surveys, and their retention
  (``adoption/api.py``);
- ``ledger.agents``: agents' guardrails and their authorisation (``governance/agents.py``).

The ledger itself opens, creates and closes the file, and acts as another user.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from valuegap.model.roles import User
from valuegap.session import Clock, Session, built_on_first_use
from valuegap.settings import Settings, acting_user, load_settings
from valuegap.store import Database
from valuegap.store.aggregates import AggregateStore
from valuegap.store.audit import AuditStore
from valuegap.store.database import utcnow
from valuegap.store.governance import GovernanceStore
from valuegap.store.users import UserStore

if TYPE_CHECKING:
    from valuegap.adoption.api import Adoption
    from valuegap.adoption.key_api import PseudonymKeys
    from valuegap.costs.api import Costs
    from valuegap.errors import Problem
    from valuegap.governance.agents import Agents
    from valuegap.governance.api import Governance
    from valuegap.outcomes.api import Outcomes
    from valuegap.outcomes.statements import Statements
    from valuegap.portfolio.api import Initiatives

BASELINE_ACTOR = "valuegap"  # who records the baseline of a ledger written before


class Ledger:
    """An open ledger, acting as one user. Use as a context manager, or call ``close``."""

    def __init__(
        self,
        db: Database,
        *,
        actor: str,
        settings: Settings,
        clock: Clock = utcnow,
        owns_database: bool = True,
    ) -> None:
        self.session = Session(db, actor=actor, settings=settings, clock=clock)
        self._owns_database = owns_database  # a view from acting_as leaves it open
        self._building = threading.RLock()

    # Each part is built on first use (a command imports only the modules of the parts it
    # uses), given the parts it needs.

    @built_on_first_use
    def _keys(self) -> PseudonymKeys:
        from valuegap.adoption.key_api import PseudonymKeys

        return PseudonymKeys(self.session)

    @built_on_first_use
    def costs(self) -> Costs:
        from valuegap.costs.api import Costs

        return Costs(self.session, lambda: self._keys)

    @built_on_first_use
    def portfolio(self) -> Initiatives:
        from valuegap.portfolio.api import Initiatives

        # Cost follows an initiative to its business unit: when apply moves one, every
        # month's cost aggregates are computed again.
        return Initiatives(
            self.session, _check_kill_criteria, lambda: self.costs.refresh_aggregates(None)
        )

    @built_on_first_use
    def outcomes(self) -> Outcomes:
        from valuegap.outcomes.api import Outcomes

        return Outcomes(self.session, self.costs, self.portfolio)

    @built_on_first_use
    def adoption(self) -> Adoption:
        from valuegap.adoption.api import Adoption
        from valuegap.outcomes.unit_outcomes import unit_outcomes_on

        # The unit outcomes its reports read: without the outcomes part and its reports' modules.
        return Adoption(
            self.session,
            lambda: self._keys,
            lambda on: unit_outcomes_on(self.session, self.costs, on),
        )

    @built_on_first_use
    def statements(self) -> Statements:
        from valuegap.outcomes.statements import Statements

        return Statements(self.session, self.costs, self.outcomes.portfolio_report)

    @built_on_first_use
    def governance(self) -> Governance:
        from valuegap.governance.api import Governance

        return Governance(self.session, self.portfolio, lambda: self.outcomes, lambda: self._keys)

    @built_on_first_use
    def agents(self) -> Agents:
        from valuegap.governance.agents import Agents

        return Agents(self.session, self.portfolio, self.governance)

    @property
    def actor(self) -> str:
        return self.session.actor

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        *,
        actor: str | None = None,
        settings: Settings | None = None,
        clock: Clock = utcnow,
        read_only: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> Ledger:
        """Open an existing ledger (``db``, else the settings' ``db``), upgrading its schema. A
        ledger from before policies existed gets the default policy pack, so that its gates
        hold from the first move.

        ``read_only``: only read, so that other processes may read the file at the same time;
        every change is refused. A ledger that needs an upgrade is upgraded first, opened to
        write for that once. While another process holds the file, this waits up to the
        setting ``lock_timeout``, telling ``on_wait`` (once, in words) that it waits."""
        if read_only:
            return cls._open_read_only(db, actor, settings, clock, on_wait)
        ledger = cls._connect(db, actor, settings, clock, create=False, on_wait=on_wait)
        for upgrade in ledger._upgrades():
            with ledger._closed_on_error(), ledger.session.db.transaction():
                upgrade()
        with ledger._closed_on_error():
            ledger._drain_inbox()
        return ledger

    def _drain_inbox(self) -> None:
        """Store the spans a server acknowledged and did not drain before it stopped (killed,
        say): each drain is all or nothing, so a failure leaves them for the next open."""
        try:
            self.costs.inbox.drain_all()
        except Exception:  # never keeps the ledger from opening: the next open tries again
            logging.getLogger("valuegap.inbox").exception("The OTLP inbox was not drained")

    @classmethod
    def _open_read_only(
        cls,
        db: str | Path | None,
        actor: str | None,
        settings: Settings | None,
        clock: Clock,
        on_wait: Callable[[str], None] | None,
    ) -> Ledger:
        def connect() -> Ledger:
            return cls._connect(
                db, actor, settings, clock, create=False, read_only=True, on_wait=on_wait
            )

        ledger = connect()
        with ledger._closed_on_error():
            up_to_date = not ledger.session.db.schema_outdated and not ledger._upgrades()
        if up_to_date:
            return ledger
        ledger.close()
        cls.open(db, actor=actor, settings=settings, clock=clock, on_wait=on_wait).close()
        return connect()

    def _upgrades(self) -> list[Callable[[], object]]:
        """What a ledger written by an older valuegap still needs, each a write of its own:
        its cost aggregates, the audit log's baseline, the default policy pack."""
        database = self.session.db
        needed: list[Callable[[], object]] = []
        if AggregateStore(database).built_for() is None:
            needed.append(self.costs.build_aggregates)
        if AuditStore(database).baseline_pending():
            needed.append(self.acting_as(BASELINE_ACTOR).governance.audit.record_baseline)
        known = UserStore(database).get(self.actor) is not None
        if known and not GovernanceStore(database).has_policies():
            needed.append(self.governance.load_default_policies)
        return needed

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
        session = ledger.session
        with ledger._closed_on_error(), session.db.transaction():
            admin = User(ledger.actor, "admin")
            UserStore(session.db).save(admin, by=ledger.actor, at=session.now())
            session.record(
                "ledger.init",
                "ledger",
                "ledger",
                None,
                {"admin": admin.name},
                changed=[("users", {"name": admin.name})],
            )
            ledger.governance.load_default_policies()
            ledger.costs.start_aggregates()
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
        read_only: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> Ledger:
        settings = settings or load_settings({"db": db})
        database = Database.open(
            Path(db or settings.db),
            create=create,
            memory_limit=settings.memory_limit,
            read_only=read_only,
            lock_timeout=settings.lock_timeout,
            on_wait=on_wait,
            threads=settings.threads,
        )
        return cls(database, actor=acting_user(actor), settings=settings, clock=clock)

    def acting_as(self, actor: str) -> Ledger:
        """The same open ledger, acting as another user (e.g. one web request's user): every
        part acts as ``actor``."""
        session = self.session
        return Ledger(
            session.db,
            actor=actor,
            settings=session.settings,
            clock=session.clock,
            owns_database=False,
        )

    def close(self) -> None:
        """Close the ledger file; closing a view from ``acting_as`` leaves it open for the
        ledger it came from and its other views."""
        if self._owns_database:
            self.session.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.session.path

    def progress(self) -> float | None:
        """How far the ledger's running statement is (0-100), for a progress bar; None when
        there is none. Call it from another thread than the one doing the work."""
        return self.session.db.progress()

    def set_origin(self, origin: str) -> None:
        """Say what made this ledger (the demo), and as of which audit entry: a later change
        shows as a later head."""
        db = self.session.db
        with db.transaction():
            db.settle()  # the head as decisions left it, held until this commits
            db.set_meta("origin", origin)
            db.set_meta("origin_head", db.get_meta("audit_head") or "")


def _check_kill_criteria(criteria: list[str], where: str) -> list[Problem]:
    # Imported when an initiative is applied: reading the portfolio needs no policy language.
    from valuegap.governance.reviews import check_kill_criteria

    return check_kill_criteria(criteria, where)

"""A ledger is its parts: the ledger opens the file and acts as a user; each part does the rest
as the user of its session."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest

from valuegap import Ledger, PermissionDenied

from .conftest import ready


def test_a_ledger_keeps_only_what_concerns_the_whole_file(ledger: Ledger) -> None:
    # No delegating shim: every other method is reached through a part.
    public = {name for name in dir(ledger) if not name.startswith("_")}
    assert public == {
        "open", "init", "close", "acting_as", "path", "progress", "set_origin", "actor",
        "settings", "session", "portfolio", "costs", "outcomes", "adoption", "statements",
        "governance",
        "agents",
    }  # fmt: skip


def test_every_part_acts_as_the_user_of_acting_as(ledger: Ledger) -> None:
    ledger.governance.users.add_user("bob", "contributor", ["ops"])
    bob = ledger.acting_as("bob")
    assert (bob.actor, ledger.actor) == ("bob", "alice")

    bob.portfolio.add_initiative(ready("claims"))
    created = ledger.governance.audit.audit_log(limit=2)  # the initiative, then its metric
    assert [(e.actor, e.action, e.entity_id) for e in created] == [
        ("bob", "metric.create", "claims-hours"),
        ("bob", "initiative.create", "claims"),
    ]

    # A contributor may not set prices, add users or apply policies, whichever part is asked.
    with pytest.raises(PermissionDenied, match="bob"):
        bob.costs.prices.set_price(
            "gpt-4o", input_per_mtok=Decimal(1), output_per_mtok=Decimal(2),
            valid_from=date(2025, 1, 1),
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="bob"):
        bob.governance.users.add_user("mallory", "admin")
    with pytest.raises(PermissionDenied, match="bob"):
        bob.governance.apply_policy("layer: enterprise\nrules: []\n", "empty.yaml")
    # The ledger it came from still acts as alice, the admin.
    assert [u.name for u in ledger.governance.users.users()] == ["alice", "bob"]


def test_a_move_through_the_gates_part_is_recorded_as_its_user(ledger: Ledger) -> None:
    ledger.governance.users.add_user("gwen", "governance")
    ledger.portfolio.add_initiative(ready("claims"))
    move = ledger.acting_as("gwen").governance.gates.advance("claims", "poc")
    assert (move.moved, move.from_stage, move.to_stage) == (True, "proposed", "poc")
    newest = ledger.governance.audit.audit_log(limit=1)[0]
    assert (newest.actor, newest.action) == ("gwen", "initiative.advance")
    assert ledger.portfolio.initiative("claims").stage == "poc"
    assert ledger.governance.audit.verify_audit().ok


def test_closing_a_view_leaves_the_ledger_open(ledger: Ledger) -> None:
    """A server opens one view per request (docs/architecture.md): closing it must not close
    the file under the ledger and every other request."""
    ledger.governance.users.add_user("bob", "viewer")
    with ledger.acting_as("bob") as view:
        assert [u.name for u in view.governance.users.users()] == ["alice", "bob"]
    ledger.governance.users.add_user("carol", "viewer")  # the ledger still writes
    assert ledger.governance.audit.verify_audit().ok
    ledger.close()
    ledger.close()  # a second close is harmless


def test_a_part_is_built_on_first_use_with_only_the_parts_it_needs(ledger: Ledger) -> None:
    view = ledger.acting_as("alice")
    assert {"portfolio", "costs", "outcomes", "governance", "agents"} & set(vars(view)) == set()
    view.governance.users.users()
    assert {"governance", "portfolio"} <= set(vars(view))
    assert {"costs", "outcomes", "agents"} & set(vars(view)) == set()
    assert "gates" not in vars(view.governance)


def test_threads_sharing_a_ledger_build_each_part_once(ledger: Ledger) -> None:
    view = ledger.acting_as("alice")
    start = threading.Barrier(8)

    def parts(_: int) -> tuple[object, ...]:
        start.wait()
        return view.agents, view.outcomes, view.governance.gates, view.costs.prices

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(parts, range(8)))
    assert all(all(a is b for a, b in zip(seen, found[0], strict=True)) for seen in found)
    assert view.governance.gates is found[0][2]

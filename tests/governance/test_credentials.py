"""Passwords, API tokens and browser sessions: what the server checks before it acts as
anyone. Only hashes are stored, and the audit log holds neither a secret nor a hash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import SteppingClock
from valuegap import Ledger
from valuegap.errors import NotFound, PermissionDenied, ValidationError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def team(ledger: Ledger) -> Ledger:
    ledger.governance.users.add_user("vera", "viewer")
    ledger.governance.users.add_user("carl", "contributor", ["support"])
    return ledger


def test_a_password_is_kept_as_argon2id_and_checked(team: Ledger) -> None:
    credentials = team.governance.credentials
    credentials.set_password("vera", PASSWORD)
    stored = team.session.db.one("SELECT hash FROM passwords WHERE name = 'vera'")
    assert stored is not None and stored[0].startswith("$argon2id$")
    assert PASSWORD not in stored[0]
    checked = credentials.check_password("vera", PASSWORD)
    assert checked is not None and checked.name == "vera"
    assert credentials.check_password("vera", PASSWORD + "!") is None
    assert credentials.check_password("carl", PASSWORD) is None  # no password set
    assert credentials.check_password("nobody", PASSWORD) is None


def test_a_short_password_is_refused_and_only_an_admin_or_the_user_sets_one(
    team: Ledger,
) -> None:
    with pytest.raises(ValidationError, match="at least 12 characters"):
        team.governance.credentials.set_password("vera", "short")
    carl = team.acting_as("carl")
    with pytest.raises(PermissionDenied):
        carl.governance.credentials.set_password("vera", PASSWORD)
    carl.governance.credentials.set_password("carl", PASSWORD)  # their own
    assert team.governance.credentials.check_password("carl", PASSWORD) is not None
    with pytest.raises(NotFound):
        team.governance.credentials.set_password("nobody", PASSWORD)


def test_a_token_is_shown_once_stored_hashed_and_proves_its_user(
    team: Ledger, db_path: Path
) -> None:
    credentials = team.governance.credentials
    made = credentials.create_token("vera", label="dashboard")
    assert made.secret.startswith(f"vgt_{made.token.id}_")
    user = credentials.user_for_token(made.secret)
    assert user is not None and user.name == "vera"
    secret_part = made.secret.removeprefix(f"vgt_{made.token.id}_")  # may itself hold "_"
    assert len(secret_part) >= 40
    stored = team.session.db.all("SELECT * FROM api_tokens")
    assert len(stored) == 1 and secret_part not in str(stored)
    for wrong in (made.secret + "x", made.secret[:-1], "vgt_" + made.token.id, "", "Bearer"):
        assert credentials.user_for_token(wrong) is None
    listed = credentials.tokens("vera")
    assert [t.id for t in listed] == [made.token.id] and listed[0].label == "dashboard"


def test_revoked_and_expired_tokens_prove_nobody(team: Ledger, clock: SteppingClock) -> None:
    credentials = team.governance.credentials
    revoked = credentials.create_token("vera")
    assert credentials.revoke_token(revoked.token.id).revoked_at is not None
    assert credentials.user_for_token(revoked.secret) is None
    expiring = credentials.create_token("vera", expires_in=timedelta(days=90))
    assert credentials.user_for_token(expiring.secret) is not None
    clock.now += timedelta(days=90)
    assert credentials.user_for_token(expiring.secret) is None
    with pytest.raises(ValidationError, match="positive"):
        credentials.create_token("vera", expires_in=timedelta(0))


def test_who_may_make_list_and_revoke_tokens(team: Ledger) -> None:
    carl = team.acting_as("carl").governance.credentials
    with pytest.raises(PermissionDenied):
        carl.create_token("vera")
    own = carl.create_token("carl")
    assert [t.id for t in carl.tokens("carl")] == [own.token.id]
    with pytest.raises(PermissionDenied):
        carl.tokens()  # everyone's: an admin's list
    veras = team.governance.credentials.create_token("vera")
    with pytest.raises(PermissionDenied):
        carl.revoke_token(veras.token.id)
    carl.revoke_token(own.token.id)
    with pytest.raises(NotFound):
        carl.revoke_token("000000000000")


def test_the_audit_log_holds_no_secret_and_no_hash(team: Ledger) -> None:
    credentials = team.governance.credentials
    credentials.set_password("vera", PASSWORD)
    made = credentials.create_token("vera")
    credentials.revoke_token(made.token.id)
    password_hash = team.session.db.one("SELECT hash FROM passwords")
    token_hash = team.session.db.one("SELECT secret_hash FROM api_tokens")
    assert password_hash is not None and token_hash is not None
    logged = " ".join(f"{e.before} {e.after} {e.state}" for e in team.governance.audit.audit_log())
    secret_part = made.secret.removeprefix(f"vgt_{made.token.id}_")  # may itself hold "_"
    for secret in (PASSWORD, secret_part, password_hash[0], token_hash[0]):
        assert secret not in logged
    actions = [e.action for e in team.governance.audit.audit_log()]
    assert actions[:3] == ["token.revoke", "token.create", "user.password"]  # newest first
    assert team.governance.audit.verify_audit().ok


def test_a_browser_session_lives_until_it_ends_or_the_password_changes(
    team: Ledger, clock: SteppingClock
) -> None:
    credentials = team.governance.credentials
    credentials.set_password("vera", PASSWORD)
    vera = credentials.check_password("vera", PASSWORD)
    assert vera is not None
    first, second = credentials.start_session(vera), credentials.start_session(vera)
    found = credentials.session_user(first.cookie)
    assert found is not None and found == (vera, first.csrf)
    credentials.end_session(first.cookie)
    assert credentials.session_user(first.cookie) is None
    assert credentials.session_user(second.cookie) is not None
    credentials.set_password("vera", PASSWORD + " again")  # signs every browser out
    assert credentials.session_user(second.cookie) is None
    third = credentials.start_session(vera)
    clock.now += timedelta(hours=12)
    assert credentials.session_user(third.cookie) is None

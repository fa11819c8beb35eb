from __future__ import annotations

import pytest

from valuegap.errors import PermissionDenied, ValidationError
from valuegap.model.roles import User, require


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"read"}),
        ("contributor", {"read", "portfolio.write", "stage.move", "control.attest"}),
        ("finance", {"read", "metric.agree", "cost.write"}),
        ("governance", {"read", "stage.move", "control.attest"}),
        (
            "admin",
            {"read", "portfolio.write", "stage.move", "control.attest", "metric.agree",
             "cost.write", "user.manage"},
        ),
    ],
)  # fmt: skip
def test_role_grants(role: str, allowed: set[str]) -> None:
    units = ("marketing",) if role == "contributor" else ()
    user = User("u", role, units)  # type: ignore[arg-type]
    every = ["read", "portfolio.write", "stage.move", "control.attest", "metric.agree",
             "cost.write", "user.manage"]  # fmt: skip
    assert {p for p in every if user.may(p, "marketing")} == allowed  # type: ignore[arg-type]


def test_contributor_is_scoped_to_its_units() -> None:
    user = User("ana", "contributor", ("marketing",))
    assert user.may("portfolio.write", "marketing")
    assert not user.may("portfolio.write", "operations")
    with pytest.raises(PermissionDenied, match=r"scoped to marketing.*'operations'"):
        require(user, "ana", "portfolio.write", "operations")


def test_unknown_user_is_told_how_to_get_access() -> None:
    with pytest.raises(
        PermissionDenied, match=r"`Ledger\.governance\.users\.add_user\('zoe', 'viewer'\)`"
    ):
        require(None, "zoe", "read")


def test_only_finance_and_admin_may_agree_a_method() -> None:
    with pytest.raises(PermissionDenied, match="finance or admin"):
        require(User("gov", "governance"), "gov", "metric.agree")


def test_role_and_unit_combinations_are_validated() -> None:
    with pytest.raises(ValidationError, match="must be one of"):
        User("x", "owner")  # type: ignore[arg-type]
    with pytest.raises(
        ValidationError, match="units: a contributor is scoped to business units: give `units`"
    ):
        User("x", "contributor")
    with pytest.raises(ValidationError, match="only a contributor has units"):
        User("x", "finance", ("marketing",))

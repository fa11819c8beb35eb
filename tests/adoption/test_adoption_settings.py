"""The adoption settings: k may be raised, never lowered below 5; retention is whole months."""

from __future__ import annotations

import pytest

from valuegap.errors import ConfigError
from valuegap.settings import Settings, load_settings


def test_k_defaults_to_five_and_may_be_raised() -> None:
    assert Settings().min_group_size == 5
    assert load_settings(env={"VALUEGAP_MIN_GROUP_SIZE": "12"}).min_group_size == 12


@pytest.mark.parametrize("k", ["4", "0", "1"])
def test_k_below_five_is_refused(k: str) -> None:
    with pytest.raises(ConfigError, match=f"min_group_size {k} is below 5"):
        load_settings(env={"VALUEGAP_MIN_GROUP_SIZE": k})


def test_k_must_be_whole() -> None:
    with pytest.raises(ConfigError, match="min_group_size must be a whole number"):
        load_settings(env={"VALUEGAP_MIN_GROUP_SIZE": "5.5"})


def test_retention_defaults_to_thirteen_months() -> None:
    assert Settings().adoption_retention_months == 13
    assert (
        load_settings(env={"VALUEGAP_ADOPTION_RETENTION_MONTHS": "6"}).adoption_retention_months
        == 6
    )
    for months in (0, 1201):
        with pytest.raises(ConfigError, match="adoption_retention_months must be 1 to 1200"):
            Settings(adoption_retention_months=months)

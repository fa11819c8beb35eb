"""Values written into SQL as literals read back as themselves, whatever they hold."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from valuegap.store.literals import literal, text_list

TEXTS = ["", "alice", "it's", "''", "a\\b", "x\0y\0", "'; DROP TABLE users; --", "Ünïcødé ✓", "\n"]


@pytest.mark.parametrize("text", TEXTS)
def test_text_reads_back_as_itself(text: str) -> None:
    assert duckdb.sql(f"SELECT {literal(text)}").fetchone() == (text,)


def test_a_list_of_texts_a_date_and_none() -> None:
    found = duckdb.sql(
        f"SELECT {text_list(TEXTS)}, {text_list([])}, {literal(date(2026, 3, 1))}, "
        f"{literal(None)} IS NULL"
    ).fetchone()
    assert found == (TEXTS, [], date(2026, 3, 1), True)


def test_a_timestamp_is_bound_as_a_parameter() -> None:
    with pytest.raises(TypeError):
        literal(datetime(2026, 3, 1, 12, 0))

from __future__ import annotations

from valuegap.words import counted


def test_one_is_singular_and_the_rest_plural() -> None:
    assert counted(1, "row") == "1 row"
    assert [counted(n, "event") for n in (0, 2, 1204)] == ["0 events", "2 events", "1,204 events"]
    assert counted(3, "entry", "entries") == "3 entries"
    assert counted(1, "entry", "entries") == "1 entry"

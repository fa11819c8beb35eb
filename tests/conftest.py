from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from valuegap import Ledger

EXAMPLES = Path(__file__).parent.parent / "examples"


class SteppingClock:
    """A deterministic clock: each reading is one second after the last."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.duckdb"


@pytest.fixture
def ledger(db_path: Path, clock: SteppingClock) -> Iterator[Ledger]:
    with Ledger.init(db_path, actor="alice", clock=clock) as opened:
        yield opened


@pytest.fixture
def example_portfolio() -> Path:
    return EXAMPLES / "portfolio.yaml"

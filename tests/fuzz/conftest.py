"""What every fuzz test shares: the example budget, a ledger per example, the ledger's
fingerprint, and the property itself.

The property, for every reader: a call succeeds or raises a ``ValuegapError`` whose message
names the file; never another exception. On error the ledger is unchanged (every table's
contents, compared by fingerprint). On success, reading the same input again changes nothing,
and the reports still run.

Each example gets its own copy of one ledger, made once per session (a copy and open take
about 20 ms; a new ledger, half a second). CI runs a bounded, reproducible number of examples;
``VALUEGAP_FUZZ_EXAMPLES=300 pytest tests/fuzz`` runs more, with fresh random examples, and
shrinks a failure to a minimal input.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from valuegap import Ledger
from valuegap.errors import ValuegapError
from valuegap.outcomes.api import ALL_TIME
from valuegap.settings import Settings

from ..conftest import EXAMPLES, SteppingClock

DATA = Path(__file__).parent.parent / "data"
_EXAMPLES = os.environ.get("VALUEGAP_FUZZ_EXAMPLES")

FUZZ = settings(
    max_examples=int(_EXAMPLES or 25),
    deadline=None,
    # CI: the same examples on every run, and a failure reported as found (shrinking one
    # takes minutes: each step copies a ledger); with VALUEGAP_FUZZ_EXAMPLES, new examples
    # each time, and failures shrunk to a minimal input.
    derandomize=_EXAMPLES is None,
    database=None if _EXAMPLES is None else settings.default.database,
    phases=[Phase.explicit, Phase.generate] if _EXAMPLES is None else list(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
    print_blob=True,
)  # fmt: skip

ACTOR = "alice"
START = datetime(2026, 1, 5, 9, 0)
USAGE_MAP = {
    "timestamp": "ts", "request_model": "model_name", "provider": "vendor",
    "input_tokens": "in_tok", "output_tokens": "out_tok", "tag.team": "squad", "user": "who",
}  # fmt: skip


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with the example portfolio (three initiatives, an agent, four metrics), currency
    rates and a little of every kind of cost, so that hostile input meets real rows."""
    path = tmp_path_factory.mktemp("fuzz-template") / "ledger.duckdb"
    opened = Ledger.init(path, actor=ACTOR, settings=Settings(db=path), clock=SteppingClock(START))
    with opened as ledger:
        ledger.portfolio.apply_file(EXAMPLES / "portfolio.yaml")
        ledger.costs.ingest_rates(DATA / "rates.csv")
        ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
        ledger.costs.ingest_costs(DATA / "manual-costs.csv")
        ledger.costs.ingest_usage(DATA / "otel-genai.jsonl", "otel")
        ledger.costs.ingest_usage(DATA / "usage-generic.csv", "csv", USAGE_MAP)
    return path


Fresh = Callable[[], AbstractContextManager[tuple[Ledger, Path]]]


@pytest.fixture(scope="session")
def fresh_ledger(template: Path) -> Fresh:
    """``with fresh_ledger() as (ledger, folder)``: a copy of the template ledger (and its
    pseudonym key), open as its admin, and an empty folder for the example's files."""

    @contextmanager
    def fresh() -> Iterator[tuple[Ledger, Path]]:
        with tempfile.TemporaryDirectory(prefix="valuegap-fuzz-") as name:
            folder = Path(name)
            copy = folder / "ledger" / template.name
            copy.parent.mkdir()
            for source in template.parent.iterdir():
                if source.name.startswith(template.name):  # the ledger and its key
                    shutil.copy(source, copy.parent / source.name)
            opened = Ledger.open(copy, actor=ACTOR, settings=Settings(db=copy),
                                 clock=SteppingClock(START))  # fmt: skip
            with opened as ledger:
                yield ledger, folder

    return fresh


def written(folder: Path, file: tuple[str, bytes]) -> Path:
    """A generated (name, bytes) file, written in the example's folder."""
    name, content = file
    path = folder / name
    path.write_bytes(content)
    return path


def fingerprint(ledger: Ledger) -> dict[str, tuple[int, str]]:
    """Every table of the ledger: (rows, a hash of its contents in any order)."""
    db = ledger.session.db
    tables = db.all(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
        "AND database_name = current_database() ORDER BY table_name"
    )
    found = {}
    for table in (str(t["table_name"]) for t in tables):
        row = db.one(
            "SELECT count(*), coalesce(md5(string_agg(h, ',' ORDER BY h)), '') FROM "
            f'(SELECT md5(CAST(t AS VARCHAR)) AS h FROM "{table}" t)'
        )
        assert row is not None
        found[table] = (int(row[0]), str(row[1]))
    return found


def run_reports(ledger: Ledger) -> None:
    """The reports every later user runs: costs, reconciliation, the portfolio and each
    initiative (the last two from one reading of the facts, as the ledger's own reports
    make them). A ValuegapError (a missing rate, say) is an answer; anything else is a bug."""
    from valuegap.outcomes.reports import initiative_report, portfolio_report

    def value_reports() -> None:
        facts = ledger.outcomes.facts()
        portfolio_report(facts, ALL_TIME)
        for initiative in facts.initiatives:
            initiative_report(facts, initiative, ALL_TIME)

    calls = (
        lambda: ledger.costs.cost_report(["provider", "initiative", "business_unit", "month"]),
        ledger.costs.reconcile,
        value_reports,
    )
    for call in calls:
        with never_crashes(), suppress(ValuegapError):
            call()


@contextmanager
def never_crashes() -> Iterator[None]:
    """Let exceptions through as they are, and turn what is not an Exception (a Rust panic
    in a library is a BaseException) into a failure that hypothesis can shrink."""
    try:
        yield
    except (Exception, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as crash:
        raise AssertionError(f"{type(crash).__name__}: {crash}") from crash


def holds(
    ledger: Ledger, read: Callable[[], Any], *, names: str | None = None, again: bool = True,
    reports: bool = True,
) -> bool:  # fmt: skip
    """The property. ``read()`` succeeds or raises a ValuegapError (whose message holds
    ``names``, the file's name, when given) and changes nothing; on success ``read()`` again
    changes nothing (``again``) and the reports run (``reports``). Returns whether it
    succeeded."""
    before = fingerprint(ledger)
    try:
        with never_crashes():
            read()
    except ValuegapError as refused:
        assert fingerprint(ledger) == before, f"refused, yet the ledger changed: {refused}"
        if names is not None:
            assert names in str(refused), f"the message does not name {names}: {refused}"
        return False
    if again:
        after = fingerprint(ledger)
        with never_crashes():
            read()
        assert fingerprint(ledger) == after, "reading the same input again changed the ledger"
    if reports:
        run_reports(ledger)
    return True

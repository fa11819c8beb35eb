"""The monthly cost aggregates that reports read: after any sequence of writes, they hold what a
full recompute from the facts gives, and every report made from them is the report made from
the facts, in exact decimals."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import back_to_schema
from valuegap import Ledger
from valuegap.costs.aggregates import fingerprint
from valuegap.errors import ValidationError
from valuegap.model.portfolio import Portfolio
from valuegap.store.aggregates import AggregateStore

MONTHS = ["2026-01", "2026-02", "2026-03"]
FOCUS = (
    "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,ServiceProviderName,ServiceName,ServiceCategory,"
    "SubAccountId,Tags"
)
USAGE = "event_id,timestamp,provider,model,input_tokens,output_tokens,cost,currency,initiative"
MANUAL = "period_start,period_end,category,amount,currency,initiative,business_unit,description"
RULE_SETS = [
    "rules:\n  - {id: qa, match: {tag.initiative: loc-qa}, initiative: loc-qa}\n",
    "rules:\n"
    "  - {id: docs, match: {tag.initiative: docs}, initiative: doc-classifier}\n"
    "  - {id: ml, match: {sub_account: ml}, business_unit: operations}\n"
    "  - id: shared\n    match: {tag.initiative: shared}\n"
    "    split: {method: proportional, driver: cost, among: [loc-qa, doc-classifier]}\n",
    "rules:\n"
    "  - id: gpt\n    match: {model: gpt-4o}\n"
    "    split: {method: even, among: [loc-qa, refund-agent]}\n"
    "  - {id: claude, match: {provider: anthropic}, initiative: refund-agent}\n",
]
REPORTS = [
    ["initiative", "business_unit", "category", "month"],
    ["provider", "service", "basis"],
    ["model", "source", "sub_account", "service_category"],
    ["business_unit"],
    [],
]

amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=4)
positive = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=4)
months = st.sampled_from(MONTHS)
tags = st.sampled_from(["", "loc-qa", "docs", "shared", "other"])
currencies = st.sampled_from(["USD", "USD", "EUR"])
focus = st.tuples(
    st.just("focus"),
    st.lists(
        st.tuples(
            months,
            st.sampled_from(
                [("OpenAI", "OpenAI API"), ("AWS", "Amazon S3"), ("Anthropic", "Claude API")]
            ),
            tags,
            amounts,
            currencies,
            st.sampled_from(["", "ml"]),
        ),
        min_size=1,
        max_size=6,
    ),
)
usage = st.tuples(
    st.just("usage"),
    st.lists(
        st.tuples(
            months,
            st.sampled_from(["openai", "anthropic"]),
            st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "gpt-4o-mini"]),
            st.integers(0, 50_000),
            st.integers(0, 5_000),
            st.one_of(st.none(), st.decimals(min_value=0, max_value=40, places=6)),
            currencies,
            tags,
        ),
        min_size=1,
        max_size=6,
    ),
)
manual = st.tuples(
    st.just("manual"),
    st.lists(
        st.tuples(
            months,
            st.sampled_from(["data", "development"]),
            positive,
            currencies,
            st.sampled_from([("loc-qa", ""), ("", "operations")]),
        ),
        min_size=1,
        max_size=3,
    ),
)
rates = st.tuples(st.just("rates"), st.decimals(min_value="0.8", max_value="1.3", places=4))
rules = st.tuples(st.just("rules"), st.integers(0, len(RULE_SETS) - 1))
price = st.tuples(
    st.just("price"),
    st.sampled_from(["2026-01-10", "2026-02-01"]),
    st.sampled_from([None, "2026-03-01"]),
    st.decimals(min_value="0.5", max_value="9", places=2),
)
remove = st.tuples(st.just("remove"), st.integers(0, 5))
unit = st.tuples(st.just("unit"), st.sampled_from(["marketing", "finance"]))
writes = st.lists(
    st.one_of(focus, usage, manual, rates, rules, price, remove, unit), min_size=1, max_size=7
)


def _day(month: str, n: int) -> str:
    return f"{month}-{1 + n % 27:02d}"


def _written(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _apply(ledger: Ledger, folder: Path, n: int, write: tuple[Any, ...], files: list[Any]) -> None:
    """Make one drawn write on ``ledger``; ``files``: the cost files ingested so far."""
    kind = write[0]
    if kind == "focus":
        rows = []
        for k, (month, (provider, service), tag, amount, currency, sub) in enumerate(write[1]):
            day = _day(month, n + k)
            tagged = f'"{{""initiative"": ""{tag}""}}"' if tag else ""
            charge = "Credit" if amount < 0 else "Usage"
            rows.append(
                f"acct,{currency},{month}-01,{day},{day},{charge},{amount},{amount},"
                f"{provider},{service},AI and Machine Learning,{sub},{tagged}"
            )
        path = _written(folder, f"focus-{n}.csv", FOCUS, rows)
        ledger.costs.ingest_focus([path])
        files.append(("focus", path))
    elif kind == "usage":
        rows = []
        for k, (month, provider, model, tokens_in, tokens_out, cost, currency, tag) in enumerate(
            write[1]
        ):
            reported = "" if cost is None else cost
            rows.append(
                f"e{n}-{k},{_day(month, n + k)}T10:00:00Z,{provider},{model},"
                f"{tokens_in},{tokens_out},{reported},{currency},{tag}"
            )
        path = _written(folder, f"usage-{n}.csv", USAGE, rows)
        ledger.costs.ingest_usage(path, "csv")
        files.append(("usage", path))
    elif kind == "manual":
        rows = [
            f"{month}-01,{_next(month)}-01,{category},{amount},{currency},{initiative},{bu},n{n}"
            for month, category, amount, currency, (initiative, bu) in write[1]
        ]
        path = _written(folder, f"manual-{n}.csv", MANUAL, rows)
        ledger.costs.ingest_costs(path)
        files.append(("costs", path))
    elif kind == "rates":
        rows = [f"2025-12-01,EUR,USD,{write[1]}"]
        ledger.costs.ingest_rates(
            _written(folder, f"rates-{n}.csv", "valid_from,from_currency,to_currency,rate", rows)
        )
    elif kind == "rules":
        path = folder / f"rules-{n}.yaml"
        path.write_text(RULE_SETS[write[1]])
        ledger.costs.apply_rules(path)
    elif kind == "price":
        _, start, end, per_mtok = write
        with contextlib.suppress(ValidationError):  # refused when it overlaps an earlier one
            ledger.costs.prices.set_price(
                "gpt-4o",
                input_per_mtok=per_mtok,
                output_per_mtok=per_mtok * 4,
                valid_from=date.fromisoformat(start),
                valid_to=None if end is None else date.fromisoformat(end),
                provider="openai",
            )
    elif kind == "remove" and files:
        file_kind, path = files.pop(write[1] % len(files))
        ledger.costs.removal.remove_costs(file_kind, file=path, reason="a test removes it")
    elif kind == "unit":  # the initiative moves to another business unit
        spec = ledger.portfolio.initiative("doc-classifier").spec()
        ledger.portfolio.apply(
            Portfolio(initiatives=[spec.model_copy(update={"business_unit": write[1]})])
        )


def _next(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


@contextmanager
def _from_the_facts(ledger: Ledger) -> Iterator[None]:
    """Reports computed from the facts, as before there were aggregates."""
    mp = pytest.MonkeyPatch()
    mp.setattr(type(ledger.costs), "_aggregated_report", lambda *_: None)
    mp.setattr("valuegap.store.costs.USAGE_BUILT", "usage aggregates never built")
    try:
        yield
    finally:
        mp.undo()


def _reports(ledger: Ledger) -> Any:
    """Every report's numbers (or the error a report gives when cost cannot be converted)."""
    try:
        return {
            "costs": [ledger.costs.cost_report(by) for by in REPORTS],
            "costs in february": ledger.costs.cost_report(
                ["initiative"], date(2026, 2, 1), date(2026, 3, 1)
            ),
            "portfolio": ledger.outcomes.portfolio_report(),
            "initiative": ledger.outcomes.initiative_report("loc-qa"),
            "scoreboard": ledger.outcomes.scoreboard(),
            "reconcile": ledger.costs.reconcile(),
        }
    except ValidationError as refused:
        return str(refused)


def _aggregates(ledger: Ledger) -> list[tuple[Any, ...]]:
    rows = [
        *ledger.session.db.all("SELECT * FROM cost_aggregates"),
        *ledger.session.db.all("SELECT * FROM usage_monthly"),
    ]
    return sorted(tuple(map(str, r.values())) for r in rows)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=writes)
def test_reports_from_the_aggregates_equal_a_full_recompute_after_any_writes(
    tmp_path_factory: Any, example_portfolio: Path, drawn: list[tuple[Any, ...]]
) -> None:
    folder = tmp_path_factory.mktemp("ledger")
    files: list[Any] = []
    with Ledger.init(folder / "ledger.duckdb", actor="alice") as ledger:
        ledger.portfolio.apply_file(example_portfolio)
        for n, write in enumerate(drawn):
            _apply(ledger, folder, n, write, files)
        maintained = _aggregates(ledger)
        reports = _reports(ledger)
        if isinstance(reports, dict):  # made, so made from the aggregates
            assert AggregateStore(ledger.session.db).built_for() == fingerprint(ledger.settings)
        with _from_the_facts(ledger):
            assert _reports(ledger) == reports
        ledger.costs.rebuild_aggregates()
        assert _aggregates(ledger) == maintained
        assert _reports(ledger) == reports


DATA = Path(__file__).parent.parent / "data"


def test_a_ledger_from_before_the_aggregates_gets_them_when_opened(
    db_path: Path, example_portfolio: Path, tmp_path: Path
) -> None:
    import duckdb

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_SETS[0])
    with Ledger.init(db_path, actor="alice") as ledger:
        ledger.governance.users.add_user("vic", "viewer")
        ledger.portfolio.apply_file(example_portfolio)
        ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
        ledger.costs.apply_rules(rules)
    con = duckdb.connect(str(db_path))  # as schema 11 left it: no aggregates
    con.execute("DELETE FROM ledger_meta WHERE key LIKE '%_aggregates_settings'")
    con.execute("DELETE FROM ledger_meta WHERE key = 'usage_monthly_built'")
    back_to_schema(con, 11)
    con.close()
    with Ledger.open(db_path, actor="vic") as ledger:  # any reader's opening builds them
        assert AggregateStore(ledger.session.db).built_for() == fingerprint(ledger.settings)
        rows = {r.initiative: r.cost for r in ledger.costs.cost_report(["initiative"])}
        assert ledger.session.db.get_meta("usage_monthly_built")
    # loc-qa: its tagged GPU hours and credit, 1100.25 - 50; the rest: 300 + 45.10 + 12.34 (tax).
    assert rows == {"loc-qa": Decimal("1050.25"), "(unallocated)": Decimal("357.44")}


def _usage_file(path: Path, rows: list[tuple[str, str, str, str, int, int, str, str]]) -> Path:
    lines = [",".join(map(str, row)) + "," for row in rows]
    return _written(path.parent, path.name, USAGE, lines)


def _monthly(ledger: Ledger) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The monthly usage aggregates, each row's sums by its keys (one row a key)."""
    rows = [tuple(r.values()) for r in ledger.session.db.all("SELECT * FROM usage_monthly")]
    found = {row[:6]: row[6:] for row in rows}
    assert len(found) == len(rows)
    return found


def test_usage_added_to_a_year_of_calls_adds_its_sums_to_their_months(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The monthly usage aggregates after ingests that add to months of a year of calls (a
    file, a second file that repeats part of the first, then spans drained): what summing
    each month again gives, and the sums of the rows ingested, counted by hand."""
    models = [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ("openai", "x-9")]
    rows = []
    for n in range(60_000):  # 5,000 calls a month: of each model, each with a reported cost
        month, k = 1 + n % 12, n // 12
        provider, model = models[k % 3]
        cost, currency = f"{k % 7}.25" if k % 2 else "", "EUR" if k % 5 == 0 else "USD"
        day = f"2025-{month:02d}-{1 + k % 28:02d}T10:00:00Z"
        rows.append((f"y-{n}", day, provider, model, k % 1000, k % 100, cost, currency))
    ledger.costs.ingest_usage(_usage_file(tmp_path / "year.csv", rows), "csv")
    year = _monthly(ledger)

    # June again: 500 calls sent before, and 2,000 new ones, unpriced (model x-9) and priced.
    june = [r for r in rows if r[1].startswith("2025-06")][:500]
    late_june = "2025-06-30T23:00:00Z"
    new = [(f"june-{n}", late_june, *models[1 + n % 2], 10, 1, "", "USD") for n in range(2_000)]
    ledger.costs.ingest_usage(_usage_file(tmp_path / "june.csv", june + new), "csv")
    # July: spans, one of them sent twice.
    spans = [
        {
            "traceId": f"{n:032x}",
            "spanId": f"{n:016x}",
            "startTimeUnixNano": 1_751_500_000_000_000_000 + n,  # 2025-07-02T23:46:40Z
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 3,
            },
        }
        for n in [*range(1, 301), 300]
    ]
    ledger.costs.ingest_spans(spans)

    maintained = _monthly(ledger)
    ledger.costs.rebuild_aggregates()
    assert maintained == _monthly(ledger)  # what summing every month again gives
    changed = {key for key in maintained if maintained[key] != year.get(key)}
    assert {key[1] for key in changed} == {date(2025, 6, 1), date(2025, 7, 1)}
    june_claude = (date(2025, 6, 1), "USD", "USD", "catalogue", None)
    before = year[("anthropic", *june_claude)]
    after = maintained[("anthropic", *june_claude)]
    assert after[0] - before[0] == 1_000  # events: the new calls, n even
    assert after[5] - before[5] == 10_000  # input tokens: 1,000 calls x 10
    # At $3 and $15 a million input and output tokens: 1,000 x (10 x 3 + 1 x 15) / 1e6.
    assert after[3] - before[3] == Decimal("0.045")
    unpriced = ("openai", date(2025, 6, 1), "USD", None, None, None)  # x-9, n odd
    assert maintained[unpriced][:2] == (year[unpriced][0] + 1_000, year[unpriced][1] + 1_000)
    july = maintained[("openai", date(2025, 7, 1), "USD", "USD", "catalogue", None)]
    july_before = year[("openai", date(2025, 7, 1), "USD", "USD", "catalogue", None)]
    assert july[0] - july_before[0] == 300  # the span sent twice counts once
    assert july[5] - july_before[5] == 300_000

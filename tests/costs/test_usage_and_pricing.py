from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from genai_prices import Usage, calc_price

from valuegap import Ledger
from valuegap.errors import IngestError

DATA = Path(__file__).parent.parent / "data"
MODELS = [  # (OTel provider name, model): plain, cached, tiered and time-of-day prices
    ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-3-5-haiku"), ("gcp.gemini", "gemini-2.5-pro"),
    ("deepseek", "deepseek-chat"),
]  # fmt: skip


def _span(n: int, provider: str, model: str, when: datetime, tokens: dict[str, int]) -> str:
    attrs = {"gen_ai.provider.name": provider, "gen_ai.request.model": model,
             **{f"gen_ai.usage.{k}": v for k, v in tokens.items()}}  # fmt: skip
    nanos = int(when.timestamp() * 1e9)
    return json.dumps({"traceId": f"t{n:031d}", "spanId": f"s{n:015d}",
                       "startTimeUnixNano": str(nanos), "attributes": attrs})  # fmt: skip


def _computed(ledger: Ledger) -> dict[str, tuple[Decimal | None, str | None]]:
    rows = ledger.session.db.all("SELECT event_key, computed_cost, price_source FROM usage_events")
    return {r["event_key"]: (r["computed_cost"], r["price_source"]) for r in rows}


def test_spans_are_priced_exactly_as_genai_prices(ledger: Ledger, tmp_path: Path) -> None:
    spans, expected = [], {}
    n = 0
    for provider, model in MODELS:
        for when in (datetime(2025, 3, 1, 3, tzinfo=UTC), datetime(2025, 9, 12, 20, tzinfo=UTC)):
            for tokens in ({"input_tokens": 1_234, "output_tokens": 567},
                           {"input_tokens": 250_000, "output_tokens": 1_000,
                            "cache_read.input_tokens": 40_000},
                           {"input_tokens": 9_000, "output_tokens": 3_000,
                            "cache_creation.input_tokens": 2_000}):  # fmt: skip
                n += 1
                spans.append(_span(n, provider, model, when, tokens))
                usage = Usage(
                    input_tokens=tokens["input_tokens"],
                    output_tokens=tokens["output_tokens"],
                    cache_read_tokens=tokens.get("cache_read.input_tokens"),
                    cache_write_tokens=tokens.get("cache_creation.input_tokens"),
                )
                provider_id = {"gcp.gemini": "google"}.get(provider, provider)
                price = calc_price(usage, model, provider_id=provider_id,
                                   genai_request_timestamp=when).total_price  # fmt: skip
                expected[f"t{n:031d}:s{n:015d}"] = price.quantize(Decimal("1e-10"))
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join(spans) + "\n")
    ledger.costs.ingest_usage(path, "otel")
    computed = _computed(ledger)
    assert {k: v[0] for k, v in computed.items()} == expected
    assert {v[1] for v in computed.values()} == {"catalogue"}


def test_override_reprices_only_events_from_its_date(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join([
        _span(1, "openai", "gpt-4o", datetime(2025, 5, 31, 23, tzinfo=UTC),
              {"input_tokens": 1_000_000, "output_tokens": 0}),
        _span(2, "openai", "gpt-4o", datetime(2025, 6, 1, 0, tzinfo=UTC),
              {"input_tokens": 1_000_000, "output_tokens": 1_000_000}),
    ]) + "\n")  # fmt: skip
    ledger.costs.ingest_usage(path, "otel")
    before = _computed(ledger)
    repriced = ledger.costs.prices.set_price(
        "gpt-4o",
        input_per_mtok=Decimal("1.50"),
        output_per_mtok=Decimal("6"),
        valid_from=date(2025, 6, 1),
    )
    assert repriced == 1  # only the call it covers
    after = _computed(ledger)
    old, new = f"t{1:031d}:s{1:015d}", f"t{2:031d}:s{2:015d}"
    assert after[old] == before[old]  # before the override's date: the catalogue price
    assert after[new] == (Decimal("7.5"), "override")  # 1 M x 1.50 + 1 M x 6, by hand


def test_costs_are_exact_beyond_the_fast_integer_path(ledger: Ledger, tmp_path: Path) -> None:
    # Catalogue rates in whole pico-dollars and small token counts are priced in 64-bit
    # integers; an override with more decimals, or a count of a billion tokens or more, in
    # DECIMAL. Each cost by hand.
    ledger.costs.prices.set_price(
        "my-model",
        input_per_mtok=Decimal("1.0000001"),
        output_per_mtok=Decimal(2),
        valid_from=date(2025, 1, 1),
    )
    path = tmp_path / "u.csv"
    path.write_text(
        "event_id,timestamp,provider,model,input_tokens,output_tokens,cache_read_tokens\n"
        "small,2025-03-01T00:00:00Z,openai,gpt-4o,1000,300,200\n"
        "huge,2025-03-01T00:00:00Z,openai,gpt-4o,2000000000,0,0\n"
        "fine,2025-03-01T00:00:00Z,,my-model,1000,0,0\n"
    )
    ledger.costs.ingest_usage(path, "csv")
    assert _computed(ledger) == {
        # 800 x 2.50/M + 200 x 1.25/M + 300 x 10/M
        "small": (Decimal("0.00525"), "catalogue"),
        "huge": (Decimal("5000"), "catalogue"),  # 2,000,000,000 x 2.50/M
        "fine": (Decimal("0.0010000001"), "override"),  # 1,000 x 1.0000001/M
    }


def test_otlp_json_document_and_attribute_names(ledger: Ledger) -> None:
    result = ledger.costs.ingest_usage(DATA / "otel-genai.jsonl", "otel")
    assert (result.rows_read, result.rows_added) == (3, 3)  # the HTTP span is not usage
    rows = ledger.session.db.all(
        "SELECT request_model, response_model, input_tokens, output_tokens, cache_read_tokens,"
        " provider, team, initiative, tags, user_pseudonym FROM usage_events"
        " ORDER BY ts, request_model"
    )
    first = rows[0]
    assert (first["response_model"], first["input_tokens"], first["cache_read_tokens"]) == (
        "gpt-4o-2024-08-06",
        1200,
        200,
    )
    assert (first["team"], first["initiative"]) == ("localisation", "loc-qa")
    assert first["tags"] == {"service.name": "loc-qa-api"}
    deprecated = next(r for r in rows if r["request_model"] == "claude-sonnet-4-5")
    assert (deprecated["provider"], deprecated["input_tokens"]) == ("anthropic", 250_000)
    assert ledger.costs.prices.unpriced_usage()[0].model == "acme-internal-7b"


def test_person_identifiers_are_never_stored(ledger: Ledger) -> None:
    ledger.costs.ingest_usage(DATA / "otel-genai.jsonl", "otel")
    ledger.costs.ingest_usage(DATA / "litellm-spend.csv", "litellm")
    path = ledger.path
    ledger.close()
    raw = path.read_bytes()
    assert b"ana.costa@northwind.example" not in raw and b"omar" not in raw
    con = duckdb.connect(str(path), read_only=True)
    pseudonyms = {r[0] for r in con.execute("SELECT user_pseudonym FROM usage_events").fetchall()}
    assert all(p is None or p.startswith("p_") for p in pseudonyms)
    assert len(pseudonyms - {None}) == 3


def test_litellm_spend_log(ledger: Ledger) -> None:
    result = ledger.costs.ingest_usage(DATA / "litellm-spend.csv", "litellm")
    assert result.rows_added == 2
    rows = ledger.session.db.all("SELECT event_key, reported_cost, team, tags FROM usage_events "
                          "ORDER BY event_key")  # fmt: skip
    assert rows[0] == {"event_key": "chatcmpl-1", "reported_cost": Decimal("0.0042500000"),
                       "team": "team-ops", "tags": {"initiative": "doc-classifier"}}  # fmt: skip
    assert ledger.costs.ingest_usage(DATA / "litellm-spend.csv", "litellm").rows_added == 0


def test_litellm_tags_that_are_not_a_list_of_distinct_keys_are_named(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = (DATA / "litellm-spend.csv").read_text().splitlines()
    bad = tmp_path / "spend.csv"
    bad.write_text("\n".join([*lines, lines[2].replace("chatcmpl-2", "chatcmpl-9")
                              .replace(",[]", ',"[""a:1"",""a:2""]"')]) + "\n")  # fmt: skip
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(bad, "litellm")
    [problem] = refused.value.problems
    assert problem.where == f"{bad}, row {len(lines)}, column 'request_tags'"
    assert problem.value == '["a:1","a:2"]'


def test_generic_csv_with_a_mapping(ledger: Ledger) -> None:
    mapping = {"timestamp": "ts", "request_model": "model_name", "provider": "vendor",
               "input_tokens": "in_tok", "output_tokens": "out_tok", "tag.team": "squad",
               "user": "who"}  # fmt: skip
    ledger.costs.ingest_usage(DATA / "usage-generic.csv", "csv", mapping)
    rows = ledger.session.db.all("SELECT computed_cost, tags FROM usage_events ORDER BY ts")
    # gpt-4o: 1000 x 2.50/M + 1000 x 10/M = 0.0125; 2000 x 2.50/M = 0.005 (by hand).
    assert [r["computed_cost"] for r in rows] == [Decimal("0.0125"), Decimal("0.005")]
    assert rows[0]["tags"] == {"team": "growth"}


def test_bad_usage_rows_are_named(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("ts,model,in\n2025-01-01T00:00:00Z,gpt-4o,12\nyesterday,gpt-4o,-3\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv", {"timestamp": "ts", "input_tokens": "in"})
    found = [str(p) for p in refused.value.problems]
    assert f"{path}, row 2, column 'ts': is not a timestamp" in found[0]
    tokens = "is not a whole number of tokens from 0 to 1,000,000,000,000"
    assert f"row 2, column 'in': {tokens} (found '-3')" in found[1]


def test_one_bad_value_in_the_middle_of_a_large_file(ledger: Ledger, tmp_path: Path) -> None:
    # Large enough that DuckDB reads it on several threads: the row must still be the file's.
    path = tmp_path / "u.csv"
    lines = [f"e{n},2025-01-01T00:00:00Z,gpt-4o,{n % 900}" for n in range(1, 300_001)]
    lines[212_344] = "e212345,2025-01-01T00:00:00Z,gpt-4o,many"
    path.write_text("event_id,timestamp,model,input_tokens\n" + "\n".join(lines) + "\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv")
    assert [str(p) for p in refused.value.problems] == [
        f"{path}, row 212345, column 'input_tokens': is not a whole number of tokens from 0 "
        "to 1,000,000,000,000 (found 'many')"
    ]
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)


def test_identical_calls_without_ids_each_count_and_ids_count_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "event_id,timestamp,model,input_tokens\n"
        + ",2025-01-01T00:00:00Z,gpt-4o,1000\n" * 3  # three identical calls without an id
        + "e9,2025-01-01T00:00:00Z,gpt-4o,5\n" * 2  # one call, exported twice
    )
    assert ledger.costs.ingest_usage(path, "csv").rows_added == 4
    assert ledger.costs.ingest_usage(path, "csv").rows_added == 0
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (4,)


def test_rows_without_ids_keep_their_keys_whether_or_not_a_file_repeats_them(
    ledger: Ledger, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    header = "timestamp,model,input_tokens\n"
    a, b = "2025-01-01T00:00:00Z,gpt-4o,1000\n", "2025-01-01T00:05:00Z,gpt-4o,20\n"
    first.write_text(header + a + b)  # no row repeats: occurrences are not numbered
    second.write_text(header + a + a + b)  # a repeats: the second a is another call
    assert ledger.costs.ingest_usage(first, "csv").rows_added == 2
    assert ledger.costs.ingest_usage(second, "csv").rows_added == 1
    assert ledger.session.db.one("SELECT sum(input_tokens) FROM usage_events") == (2020,)


def test_a_broken_csv_row_is_named_and_nothing_is_stored(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "event_id,timestamp,model,input_tokens\n"
        "e1,2025-01-01T00:00:00Z,gpt-4o,10\n"
        "e2,2025-01-01T00:00:00Z,gpt-4o,10,surplus\n"
    )
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv")
    [problem] = refused.value.problems
    assert str(problem).startswith(f"{path}, row 2, column '(row)': has 5 values, but the header "
                                   "has 4 columns")  # fmt: skip
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)


def test_a_repeated_id_counts_once_beside_rows_without_ids(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "event_id,timestamp,model,input_tokens\n"
        + "e1,2025-01-01T00:00:00Z,gpt-4o,5\n" * 2  # one call, exported twice
        + "".join(f",2025-01-01T00:00:00Z,gpt-4o,{n}\n" for n in (10, 20, 30))  # three calls
    )
    assert ledger.costs.ingest_usage(path, "csv").rows_added == 4
    assert ledger.session.db.one("SELECT sum(input_tokens) FROM usage_events") == (65,)


@pytest.mark.parametrize(
    ("columns", "bad", "column", "message"),
    [
        ("timestamp,model", ",gpt-4o", "timestamp", "is required: when the call was made"),
        ("timestamp,model", "2025-01-01T00:00:00Z,", "request_model", "is required"),
        ("timestamp,model,cost", "2025-01-01T00:00:00Z,gpt-4o,1.2.3", "cost", "is not a decimal"),
        ("timestamp,model,cost,currency", "2025-01-01T00:00:00Z,gpt-4o,1,dollars", "currency",
         "is not an ISO 4217 currency code"),
        ("timestamp,model,output_tokens", "2025-01-01T00:00:00Z,gpt-4o,-1", "output_tokens",
         "is not a whole number of tokens"),
    ],
)  # fmt: skip
def test_each_check_refuses_a_row_even_with_an_id_already_stored(
    ledger: Ledger, tmp_path: Path, columns: str, bad: str, column: str, message: str
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("event_id,timestamp,model\ne1,2025-01-01T00:00:00Z,gpt-4o\n")
    assert ledger.costs.ingest_usage(good, "csv").rows_added == 1
    path = tmp_path / "bad.csv"
    empty = "," * (columns.count(",") - 1)
    path.write_text(f"event_id,{columns}\ne2,2025-01-02T00:00:00Z,gpt-4o{empty}\ne1,{bad}\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "csv")
    [problem] = refused.value.problems
    assert problem.where == f"{path}, row 2, column '{column}'"
    assert problem.message.startswith(message)
    assert ledger.session.db.one("SELECT list(event_key) FROM usage_events") == (["e1"],)
    assert ledger.session.db.one("SELECT current_setting('preserve_insertion_order')") == (True,)

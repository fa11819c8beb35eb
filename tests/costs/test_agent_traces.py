"""Usage as agent frameworks send it: model calls are priced, agent and tool spans are kept but
never priced; impossible usage is refused; nothing is priced by a guess."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from valuegap import Ledger
from valuegap.costs.cost_report import CostLine
from valuegap.errors import IngestError
from valuegap.model.usage import TokenCounts
from valuegap.settings import Settings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = {str: "stringValue", int: "intValue"}
    return [
        {"key": k, "value": {kinds[type(v)]: str(v) if isinstance(v, int) else v}}
        for k, v in values.items()
    ]


def _span(span: str, parent: str | None, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span,
        "parentSpanId": parent or "",
        "name": attributes.get("gen_ai.operation.name", "span"),
        "startTimeUnixNano": "1772355600000000000",  # 2026-03-01 09:00 UTC
        "attributes": _attrs(attributes),
    }


def _chat(span: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return _span(
        span,
        "a1",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
            "gen_ai.agent.name": "refunds",
        },
    )


def _trace(path: Path) -> Path:
    """An agent run as the OpenAI Agents SDK or pydantic-ai exports it (OTLP JSON): the agent's
    span carries the sum of its two model calls' usage; a tool span has none."""
    spans = [
        _span(
            "a1",
            None,
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": "openai",
                "gen_ai.agent.name": "refunds",
                "gen_ai.agent.id": "agent-7",
                "gen_ai.conversation.id": "conv-42",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 3_000,
                "gen_ai.usage.output_tokens": 700,
            },
        ),
        _chat("c1", 1_000, 200),
        _span(
            "t1",
            "a1",
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"},
        ),
        _chat("c2", 2_000, 500),
        _span("h1", "t1", {"http.method": "GET"}),  # not GenAI: skipped, as before
    ]
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs({"service.name": "agents"})},
                "scopeSpans": [{"scope": {"name": "openai.agents"}, "spans": spans}],
            }
        ]
    }
    path.write_text(json.dumps(document) + "\n")
    return path


def test_an_agent_trace_costs_what_its_model_calls_cost(ledger: Ledger, tmp_path: Path) -> None:
    result = ledger.costs.ingest_usage(_trace(tmp_path / "trace.json"), "otel")
    assert (result.rows_read, result.rows_added) == (4, 4)  # the HTTP span is not usage
    rows = {
        r["operation"]: r
        for r in ledger.session.db.all(
            "SELECT operation, counted, computed_cost, tags FROM usage_events"
        )
    }
    assert (
        rows["invoke_agent"]["counted"] is False and rows["invoke_agent"]["computed_cost"] is None
    )
    assert rows["execute_tool"]["tags"] == {
        "gen_ai.tool.name": "lookup_order",
        "service.name": "agents",
    }
    assert rows["invoke_agent"]["tags"]["gen_ai.conversation.id"] == "conv-42"
    # gpt-4o at 2.50 in, 10 out per million: (3,000 x 2.50 + 700 x 10) / 1 M = 0.0145
    [row] = ledger.costs.cost_report(["source"])
    assert row.cost == Decimal("0.0145")
    assert (
        ledger.costs.prices.unpriced_usage() == []
    )  # the agent and tool spans are not unpriced calls
    by_agent = ledger.costs.cost_report(["tag:gen_ai.agent.name"])
    assert by_agent == [
        CostLine(
            tags={"gen_ai.agent.name": "refunds"},
            cost=Decimal("0.0145"),
            estimated=Decimal("0.0145"),
            usage_cost=Decimal("0.0145"),
            currency="USD",
        )
    ]


def _cached(path: Path, cache_read: int, input_tokens: int) -> Path:
    path.write_text(
        json.dumps(
            {
                "traceId": TRACE,
                "spanId": "c9",
                "startTimeUnixNano": "1772355600000000000",
                "attributes": {
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": "claude-sonnet-4-5",
                    "gen_ai.usage.input_tokens": input_tokens,
                    "gen_ai.usage.output_tokens": 10,
                    "gen_ai.usage.cache_read.input_tokens": cache_read,
                },
            }
        )
        + "\n"
    )
    return path


def test_more_cache_tokens_than_input_tokens_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = _cached(tmp_path / "span.jsonl", 1_000, 100)
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_usage(path, "otel")
    [problem] = refused.value.problems
    assert problem.where == f"{path}, row 1, column 'cache_read_tokens'"
    assert problem.message.startswith("cache tokens exceed the input tokens they are part of")
    assert "token_counts" in problem.message
    assert ledger.session.db.one("SELECT count(*) FROM usage_events") == (0,)


def test_a_source_that_counts_cache_tokens_apart_says_so(db_path: Path, tmp_path: Path) -> None:
    settings = Settings(db=db_path, token_counts={"otel": TokenCounts(cache="separate")})
    with Ledger.init(db_path, actor="alice", settings=settings) as ledger:
        ledger.costs.ingest_usage(_cached(tmp_path / "span.jsonl", 1_000, 100), "otel")
        row = ledger.session.db.all(
            "SELECT input_tokens, cache_read_tokens, computed_cost FROM usage_events"
        )[0]
    # 1,100 input tokens of which 1,000 cache reads. claude-sonnet-4-5: 3 USD in, 0.30 cache
    # read, 15 out per million: (100 x 3 + 1,000 x 0.30 + 10 x 15) / 1 M = 0.00075.
    assert (row["input_tokens"], row["cache_read_tokens"]) == (1_100, 1_000)
    assert row["computed_cost"] == Decimal("0.00075")


def _calls(path: Path, *rows: str) -> Path:
    path.write_text(
        "event_id,timestamp,provider,model,input_tokens,output_tokens\n"
        + "".join(f"{row}\n" for row in rows)
    )
    return path


def test_nothing_is_priced_by_a_guess(ledger: Ledger, tmp_path: Path) -> None:
    ledger.costs.ingest_usage(
        _calls(
            tmp_path / "calls.csv",
            "g1,2026-03-01T09:00:00Z,my-gateway,gpt-4o,1000000,0",
            "g2,2026-03-01T09:00:00Z,openai,claude-3-5-sonnet,1000000,0",
            "g3,2026-03-01T09:00:00Z,,gpt-4o,1000000,0",
        ),
        "csv",
    )
    assert ledger.session.db.one("SELECT count(computed_cost) FROM usage_events") == (0,)
    reasons = {(r.provider, r.model): r.reason for r in ledger.costs.prices.unpriced_usage()}
    assert "does not know the provider 'my-gateway'" in reasons[("my-gateway", "gpt-4o")]
    assert (
        "no model 'claude-3-5-sonnet' of the provider 'openai'"
        in reasons[("openai", "claude-3-5-sonnet")]
    )
    assert reasons[(None, "gpt-4o")].startswith("no provider")


def test_a_provider_alias_prices_a_gateway_as_its_provider(db_path: Path, tmp_path: Path) -> None:
    settings = Settings(db=db_path, provider_aliases={"my-gateway": "openai"})
    calls = _calls(tmp_path / "calls.csv", "g1,2026-03-01T09:00:00Z,My-Gateway,gpt-4o,1000000,0")
    with Ledger.init(db_path, actor="alice", settings=settings) as ledger:
        ledger.costs.ingest_usage(calls, "csv")
        assert ledger.session.db.one("SELECT computed_cost FROM usage_events") == (Decimal("2.5"),)
    # Added to the settings later, the alias prices the stored calls when they are priced again.
    with Ledger.init(tmp_path / "other.duckdb", actor="alice") as ledger:
        ledger.costs.ingest_usage(calls, "csv")
        assert ledger.costs.prices.unpriced_usage()[0].events == 1
    with Ledger.open(tmp_path / "other.duckdb", actor="alice", settings=settings) as ledger:
        assert ledger.costs.prices.unpriced_usage()[0].reason.startswith("a price applies now")
        assert ledger.costs.prices.refresh_prices() == 1
        assert ledger.costs.prices.unpriced_usage() == []


def test_calls_that_name_no_provider_are_stored_once(ledger: Ledger, tmp_path: Path) -> None:
    ledger.costs.prices.set_price("in-house", input_per_mtok=Decimal(1), output_per_mtok=Decimal(1),
                     valid_from=date(2026, 1, 1))  # fmt: skip
    spans = tmp_path / "spans.jsonl"
    spans.write_text("\n".join(json.dumps({
        "traceId": TRACE, "spanId": f"s{n}", "startTimeUnixNano": "1772355600000000000",
        "attributes": {**({"gen_ai.provider.name": ""} if n else {}),
                       "gen_ai.request.model": "in-house", "gen_ai.usage.input_tokens": 1_000_000,
                       "gen_ai.usage.output_tokens": 0},
    }) for n in range(2)) + "\n")  # fmt: skip
    result = ledger.costs.ingest_usage(spans, "otel")
    assert (result.rows_read, result.rows_added) == (2, 2)
    rows = ledger.session.db.all("SELECT provider, computed_cost FROM usage_events")
    assert rows == [{"provider": None, "computed_cost": Decimal(1)}] * 2

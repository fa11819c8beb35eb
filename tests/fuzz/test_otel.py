"""OpenTelemetry GenAI spans (OTLP JSON, or JSON lines of spans), hostile."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from .conftest import DATA, FUZZ, Fresh, holds, written
from .hostile import hostile_file, json_text, mutated_tree, tree_values

# An OTLP export (resourceSpans) and a flat span, as the test data has them.
DOCUMENTS = [json.loads(line) for line in (DATA / "otel-genai.jsonl").read_text().splitlines()]


@st.composite
def span_files(draw: st.DrawFn) -> tuple[str, bytes]:
    documents = [
        d if draw(st.integers(0, 2)) == 0 else draw(mutated_tree(d, tree_values()))
        for d in draw(st.lists(st.sampled_from(DOCUMENTS), min_size=1, max_size=3))
    ]
    return draw(hostile_file(draw(json_text(documents)), ".jsonl"))


@FUZZ
@given(file=span_files())
def test_a_hostile_span_file_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_usage(path, "otel"), names=path.name)

"""LLM usage as CSV with a column mapping, hostile (the file, and the mapping)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from valuegap.costs.usage import parse_mapping
from valuegap.errors import ValidationError
from valuegap.model.usage import FIELDS

from .conftest import DATA, FUZZ, USAGE_MAP, Fresh, holds, written
from .hostile import hostile_csv, hostile_text, read_table

USAGE = read_table(DATA / "usage-generic.csv")
MAPPING = ",".join(f"{field}={column}" for field, column in USAGE_MAP.items())

# The valid mapping, or one with an entry changed: a field mapped to a missing, hostile or
# repeated column, an unknown field, an entry without "=".
mappings = st.one_of(
    st.just(MAPPING),
    st.builds(
        lambda field, column: f"{MAPPING},{field}={column}",
        st.sampled_from([*FIELDS, "model", "tag.x", "tag.", "nope", ""]),
        st.one_of(st.sampled_from(USAGE.header), hostile_text),
    ),
    st.builds(lambda text: f"{MAPPING},{text}", hostile_text),
)


@FUZZ
@given(file=hostile_csv(USAGE), mapping=mappings)
def test_a_hostile_usage_csv_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes], mapping: str
) -> None:
    try:
        columns = parse_mapping(mapping)
    except ValidationError:  # a mapping that is not FIELD=COLUMN,...: said, not a crash
        columns = USAGE_MAP
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.costs.ingest_usage(path, "csv", columns), names=path.name)

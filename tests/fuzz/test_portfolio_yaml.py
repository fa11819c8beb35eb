"""Portfolio files (YAML), hostile: the example portfolio with values, keys and text
changed, kill criteria among them."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from ..conftest import EXAMPLES
from .conftest import FUZZ, Fresh, holds, written
from .hostile import cel_expression, hostile_file, tree_values, yaml_text

PORTFOLIO = yaml.safe_load((EXAMPLES / "portfolio.yaml").read_text(encoding="utf-8"))


@st.composite
def portfolio_files(draw: st.DrawFn) -> tuple[str, bytes]:
    text = draw(yaml_text(PORTFOLIO, tree_values(st.lists(cel_expression(), max_size=2))))
    return draw(hostile_file(text, ".yaml"))


@FUZZ
@given(file=portfolio_files())
def test_a_hostile_portfolio_file_is_applied_or_refused_naming_it(
    fresh_ledger: Fresh, file: tuple[str, bytes]
) -> None:
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.portfolio.apply_file(path), names=path.name)

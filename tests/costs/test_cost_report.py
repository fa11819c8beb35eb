"""A cost report's rows: every dimension of a report (None where not summed by), the tags it
is summed by, and the amounts, in one JSON form."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuegap import Ledger
from valuegap.results import to_data

DATA = Path(__file__).parent.parent / "data"


def test_a_cost_line_holds_every_dimension_and_the_tags_it_is_summed_by(ledger: Ledger) -> None:
    ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
    ml, untagged = ledger.costs.cost_report(["month", "tag:team"])
    nothing = dict.fromkeys(
        ["initiative", "business_unit", "category", "provider", "service", "service_category",
         "model", "sub_account", "source", "basis"]
    )  # fmt: skip
    # The GPU hours are the only line tagged team: ml; the others (300 + 45.10 - 50 + 12.34)
    # have no team, and come last.
    assert to_data(ml) == {
        "month": "2025-01", **nothing, "tags": {"team": "ml"},
        "cost": "1100.25", "estimated": "0", "usage_cost": "0", "currency": "USD",
    }  # fmt: skip
    assert to_data(untagged) == {
        "month": "2025-01", **nothing, "tags": {"team": None},
        "cost": "307.44", "estimated": "0", "usage_cost": "0", "currency": "USD",
    }  # fmt: skip
    assert (ml.dimension("month"), ml.dimension("tag:team"), ml.dimension("provider")) == (
        "2025-01",
        "ml",
        None,
    )
    with pytest.raises(KeyError):
        ml.dimension("colour")

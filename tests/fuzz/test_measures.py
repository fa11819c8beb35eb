"""Measured data: observations, outcome counts, behaviour, quality and capacity, hostile.
Each valid example names the example portfolio's initiatives and metrics, so that most
examples reach the checks of values and the reports that read them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from .conftest import FUZZ, Fresh, holds, written
from .hostile import hostile_csv, table

VALID = {
    "observations": table("""
metric,period_start,period_end,group,phase,n,mean,sd,volume
loc-qa-hours,2024-07-01,2025-01-01,all,before,6,300,20,12
loc-qa-hours,2025-03-01,2025-04-01,all,after,12,180,25.5,12
doc-review-hours,2025-03-01,2025-04-01,treatment,after,30,9.5,2,6
"""),
    "outcomes": table("""
initiative,metric,period_start,period_end,count,source
refund-agent,refunds-resolved,2025-03-01,2025-04-01,40,Zendesk
refund-agent,,2025-04-01,2025-05-01,55,
"""),
    "behaviour": table("""
initiative,period_start,period_end,decisions,accepted,overridden,escalated,review_minutes
doc-classifier,2025-03-01,2025-04-01,100,80,15,5,120.5
"""),
    "quality": table("""
initiative,period_start,period_end,measure,score,sample_size,reference
loc-qa,2025-01-01,2025-02-01,accuracy,0.95,400,true
loc-qa,2025-03-01,2025-04-01,accuracy,0.72,200,false
"""),
    "capacity": table("""
initiative,metric,period_start,period_end,redeployed,cost_reduced,not_captured
loc-qa,loc-qa-hours,2025-03-01,2025-04-01,100,50,25.25
"""),
}


@FUZZ
@given(kind=st.sampled_from(sorted(VALID)), data=st.data())
def test_a_hostile_measured_file_is_ingested_or_refused_naming_it(
    fresh_ledger: Fresh, kind: str, data: st.DataObject
) -> None:
    file = data.draw(hostile_csv(VALID[kind]), label="file")
    with fresh_ledger() as (ledger, folder):
        path = written(folder, file)
        holds(ledger, lambda: ledger.outcomes.ingest_measures(kind, path), names=path.name)  # type: ignore[arg-type]

"""``/api/v1/ingest/org|adoption|survey`` and ``/api/v1/adoption/retain``: the org chart,
adoption records and surveys, uploaded as multipart files and loaded exactly as ``valuegap
ingest`` loads them (all or nothing; a refused file answers 422 naming each row, column and
value, never a person's identifier); and retention. Nothing here ever returns a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, UploadFile
from fastapi.responses import JSONResponse

from valuegap.adoption.api import Retention
from valuegap.ledger import Ledger
from valuegap.model.ingest import IngestResult
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["adoption"], responses=PROBLEMS)

Upload = Annotated[UploadFile, File(description="CSV, gzip CSV (.csv.gz) or Parquet.")]
Writer = Annotated[Ledger, acting("adoption.write")]


@router.post("/ingest/org", response_model=IngestResult)
def ingest_org(file: Upload, ledger: Writer) -> JSONResponse:
    """Load the org chart: unit, parent (empty for a root). It replaces the stored chart
    whole; a unit that holds adoption data must stay in it."""
    return answer(ledger.adoption.ingest_org(file.file, source_name=file.filename))


@router.post("/ingest/adoption", response_model=IngestResult)
def ingest_adoption(file: Upload, ledger: Writer) -> JSONResponse:
    """Load adoption records: person, unit, subject, record (access, awareness, training,
    activity), day, uses (activity only); process volume as record ``process`` with no
    person, ``uses`` handled with AI and ``process_volume``. People are pseudonymised with
    the ledger's key before anything is written; then records older than the retention
    window are reduced to weekly aggregates."""
    return answer(ledger.adoption.ingest_adoption(file.file, source_name=file.filename))


@router.post("/ingest/survey", response_model=IngestResult)
def ingest_survey(file: Upload, ledger: Writer) -> JSONResponse:
    """Load survey answers: unit, survey (executive_confidence or manager_readiness), period
    (a date), answer (1-5). Stored as each unit's respondents and mean answer; any other
    column (a respondent) is dropped as the file is read."""
    return answer(ledger.adoption.ingest_survey(file.file, source_name=file.filename))


@router.post("/adoption/retain", response_model=Retention)
def retain(ledger: Writer) -> JSONResponse:
    """Reduce the adoption records older than ``adoption_retention_months`` (whole ISO weeks)
    to weekly aggregates per unit, subject and record, and delete them."""
    return answer(ledger.adoption.retain())

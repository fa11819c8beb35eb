"""``/api/v1/ingest/...`` and ``/api/v1/remove/...``: cloud bills, LLM usage, manual costs,
currency rates and measured outcomes, uploaded as multipart files; and wrong cost lines taken
out. Each upload streams to a temporary file and is loaded exactly as ``valuegap ingest``
loads a file: the same checks, all or nothing, and the same error details (a refused file
answers 422 naming each row, column and value, and the ledger is unchanged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Path, UploadFile
from fastapi.responses import JSONResponse

from valuegap.costs.api import IngestResult
from valuegap.costs.removal import CostKind, Removal
from valuegap.costs.usage import parse_mapping
from valuegap.ledger import Ledger
from valuegap.model.usage import UsageFormat
from valuegap.outcomes.api import MeasureKind
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["ingest"], responses=PROBLEMS)

Upload = Annotated[UploadFile, File(description="CSV, gzip CSV (.csv.gz) or Parquet.")]
InputFormat = Annotated[
    UsageFormat | None,
    Form(
        description="The file's format, if it cannot be told from its content: otel (OTLP "
        "JSON or JSON lines), litellm (a spend log) or csv (CSV or Parquet with the usage "
        "fields)."
    ),
]
ColumnMap = Annotated[
    str | None,
    Form(
        alias="map",
        description='FIELD=COLUMN pairs, comma-separated: "timestamp=ts, model=model_name, '
        'tag.team=squad".',
    ),
]


@router.post("/ingest/focus", response_model=list[IngestResult])
def ingest_focus(
    files: Annotated[list[UploadFile], File(description="FOCUS 1.0-1.3 exports.")],
    ledger: Annotated[Ledger, acting("cost.write")],
) -> JSONResponse:
    """Load FOCUS 1.0-1.3 cost-and-usage exports (CSV, gzip CSV or Parquet): all the files
    land, or none. Where a file brings a provider's first invoice for a month whose usage was
    counted as an estimate, the invoice replaces the estimate (a true-up, listed in
    ``true_ups``)."""
    results = ledger.costs.ingest_focus(
        [upload.file for upload in files], [upload.filename for upload in files]
    )
    return answer(results)


@router.post("/ingest/usage", response_model=IngestResult)
def ingest_usage(
    file: Upload,
    ledger: Annotated[Ledger, acting("cost.write")],
    input_format: InputFormat = None,
    mapping: ColumnMap = None,
) -> JSONResponse:
    """Load LLM usage events: OpenTelemetry GenAI spans (OTLP JSON or JSON lines), a LiteLLM
    spend log, or CSV/Parquet with the usage fields; the format is told from the content
    unless ``input_format`` says it. Events already stored are not added again."""
    result = ledger.costs.ingest_usage(
        file.file, input_format, parse_mapping(mapping), source_name=file.filename
    )
    return answer(result)


@router.post("/ingest/costs", response_model=IngestResult)
def ingest_costs(file: Upload, ledger: Annotated[Ledger, acting("cost.write")]) -> JSONResponse:
    """Load manual costs: period_start, period_end, category, amount, currency, initiative,
    business_unit, description (people may give fte and rate_per_month in place of
    amount)."""
    return answer(ledger.costs.ingest_costs(file.file, source_name=file.filename))


@router.post("/ingest/rates", response_model=IngestResult)
def ingest_rates(file: Upload, ledger: Annotated[Ledger, acting("cost.write")]) -> JSONResponse:
    """Load currency rates: valid_from, from_currency, to_currency, rate (1 from = rate
    to)."""
    return answer(ledger.costs.ingest_rates(file.file, source_name=file.filename))


@router.post("/ingest/measures/{kind}", response_model=IngestResult)
def ingest_measures(
    kind: Annotated[MeasureKind, Path(description="What the file measures.")],
    file: Upload,
    ledger: Annotated[Ledger, acting("outcome.write")],
) -> JSONResponse:
    """Load measured outcomes. ``observations``: metric, period_start, period_end, group,
    phase and n, mean, sd (or n, sum, sum_sq). ``outcomes``: successful outcome counts per
    initiative and period. ``behaviour``: decisions, accepted, overridden, escalated.
    ``quality``: score and sample_size on labelled samples. ``capacity``: hours saved,
    redeployed, cost_reduced, not_captured. The columns are those of ``valuegap ingest
    <kind> --help``."""
    return answer(ledger.outcomes.ingest_measures(kind, file.file, source_name=file.filename))


@router.post("/remove/{kind}", response_model=Removal)
def remove_costs(
    kind: Annotated[CostKind, Path(description="focus, usage or costs, as ingest names them.")],
    reason: Annotated[str, Form(description="Why the lines are wrong (kept in the audit log).")],
    ledger: Annotated[Ledger, acting("cost.write")],
    file: Annotated[
        UploadFile | None, File(description="Remove exactly the lines this file yields.")
    ] = None,
    key: Annotated[
        list[str] | None, Form(description="A line's key (repeat for several); instead of file.")
    ] = None,
    input_format: InputFormat = None,
    mapping: ColumnMap = None,
    dry_run: Annotated[bool, Form(description="Say what would go; remove nothing.")] = False,
) -> JSONResponse:
    """Remove wrong FOCUS lines, usage events or manual cost entries: those a file yields
    (read as its ingest read it), or those with the given keys. One transaction; the rows
    removed are kept in the audit log with the reason."""
    removal = ledger.costs.removal.remove_costs(
        kind,
        reason=reason,
        keys=key or (),
        file=None if file is None else file.file,
        source_name=None if file is None else file.filename,
        usage_format=input_format,
        mapping=parse_mapping(mapping),
        dry_run=dry_run,
    )
    return answer(removal)

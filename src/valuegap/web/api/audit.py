"""``/api/v1/audit``: the tamper-evident audit log, a page at a time, and its verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from valuegap.ledger import Ledger
from valuegap.model.audit import AuditRecord, Verification
from valuegap.web.answers import PROBLEMS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["audit"], responses=PROBLEMS)

Reader = Annotated[Ledger, acting("read")]


@router.get("/audit", response_model=list[AuditRecord])
def audit_log(
    ledger: Reader,
    entity: Annotated[
        str | None, Query(description="Only entries about this initiative, metric or user.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many entries.")] = 100,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            description="Only entries older than this ``seq``: the next page is the one "
            "``before`` the last ``seq`` of this one.",
        ),
    ] = None,
) -> JSONResponse:
    """Audit entries, newest first: who did what to which entity, the entity before and
    after, and the hashes that chain the entries."""
    entries = ledger.governance.audit.audit_log(entity_id=entity, limit=limit, before=before)
    return answer([AuditRecord.of(entry) for entry in entries])


@router.get("/audit/verify", response_model=Verification)
def verify_audit(ledger: Reader) -> JSONResponse:
    """Check the hash chain and replay the log against the tables; ``ok`` false names the
    first entry, row or total that differs (``bad_seq``, ``message``)."""
    return answer(ledger.governance.audit.verify_audit())

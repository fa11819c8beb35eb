"""``/api/v1/reviews``: scale-or-kill reviews: run those due, and read those recorded."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valuegap.governance.reviews import RecordedReview, Review
from valuegap.ledger import Ledger
from valuegap.web.answers import ERRORS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["reviews"], responses=ERRORS)


class RunReviews(BaseModel):
    as_of: date | None = None  # default today; never ahead of it


@router.post("/reviews", response_model=list[Review])
def run_reviews(body: RunReviews, ledger: Annotated[Ledger, acting("review.run")]) -> JSONResponse:
    """Review every initiative whose review date has come (as of `as_of`), and record each
    recommendation (scale, continue, fix or kill) with its reasons, as `valuegap review run
    --format json`. None due: an empty list."""
    return answer(ledger.governance.run_reviews(body.as_of))


@router.get("/reviews", response_model=list[RecordedReview])
def list_reviews(
    ledger: Annotated[Ledger, acting("read")],
    initiative: Annotated[str | None, Query(description="Only this initiative's.")] = None,
) -> JSONResponse:
    """The recommendations recorded so far, oldest first (a contributor's: of their business
    units' initiatives), as `valuegap review list --format json`."""
    return answer(ledger.governance.reviews(initiative))

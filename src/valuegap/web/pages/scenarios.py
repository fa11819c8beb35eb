"""The scenarios page: run an initiative's ROI scenario (a change of token price, model,
volume, tokens per request or ramp, as ``valuegap scenario ID`` takes them) and see its J-curve
against the baseline; save it by name; the saved scenarios compared.

Running one only reads (``read``): an htmx ``GET`` that answers with the result. Saving is an
htmx ``POST`` guarded as ``valuegap scenario save`` is (``portfolio.write``, which for a browser
also checks the session's CSRF token)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from valuegap.charts import specs
from valuegap.errors import ValuegapError
from valuegap.forecast.scenario import ScenarioChanges
from valuegap.ledger import Ledger
from valuegap.outcomes.scenarios import Scenario
from valuegap.records import record
from valuegap.web.auth import acting
from valuegap.web.pages.common import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)

_TEXT = 200  # the longest text a field takes
COMPARED = 20  # the newest saved scenarios compared on the page


@record
class Asked:
    """A scenario as the form asks for it: the initiative and its changes as people write them
    (``-50%``, ``100000/day``, ``slower``); an empty field is no change."""

    initiative: str = ""
    token_price: str = ""
    model: str = ""
    volume: str = ""
    tokens_per_request: str = ""
    ramp: str = ""

    def changes(self) -> ScenarioChanges:
        return ScenarioChanges.parse(
            token_price=self.token_price.strip() or None,
            model=self.model.strip() or None,
            volume=self.volume.strip() or None,
            tokens_per_request=self.tokens_per_request.strip() or None,
            ramp=self.ramp.strip() or None,
        )

    @property
    def given(self) -> bool:
        return bool(self.initiative)


def _asked_from(source: Callable[..., Any]) -> Callable[..., Asked]:
    """A dependency reading ``Asked``'s fields from ``source`` (``Query`` or ``Form``): each
    is text of at most ``_TEXT`` characters, empty when not given."""

    def asked(**given: str) -> Asked:
        return Asked(**given)

    text = Annotated[str, source(max_length=_TEXT)]
    keyword = inspect.Parameter.KEYWORD_ONLY
    named = [inspect.Parameter(f.name, keyword, default="", annotation=text) for f in fields(Asked)]
    setattr(asked, "__signature__", inspect.Signature(named, return_annotation=Asked))  # noqa: B010
    return asked


AskedInQuery = Annotated[Asked, Depends(_asked_from(Query))]
AskedInForm = Annotated[Asked, Depends(_asked_from(Form))]


def run(
    ledger: Ledger, asked: Asked, saved: str | None = None
) -> tuple[Scenario | None, str | None]:
    """The scenario asked for (or the saved one named), or why it could not be computed (in
    the words of the ledger's error)."""
    scenarios = ledger.outcomes.scenarios
    try:
        if saved:
            return scenarios.saved_scenario(saved), None
        if asked.given:
            return scenarios.scenario(asked.initiative, asked.changes()), None
    except ValuegapError as refused:
        return None, str(refused)
    return None, None


def _result(scenario: Scenario | None, error: str | None, **more: Any) -> dict[str, Any]:
    spec = specs.scenario_chart(scenario) if scenario and scenario.jcurve else None
    return {"scenario": scenario, "error": error, "scenario_spec": spec, **more}


def _saved(viewer: Viewer, message: str | None = None) -> dict[str, Any]:
    """The newest saved scenarios (``COMPARED``) of the initiatives the viewer may see (a
    contributor's units'), compared: each is computed again on every view."""
    ledger = viewer.ledger
    readable = ledger.outcomes.scenarios.scenarios()
    newest = sorted(readable, key=lambda s: (s.saved_at, s.name), reverse=True)[:COMPARED]
    saved = sorted(newest, key=lambda s: s.name)
    try:
        compared = ledger.outcomes.scenarios.compare_scenarios([s.name for s in saved])
        compare_error = None
    except ValuegapError as refused:  # a saved scenario that no longer computes
        compared, compare_error = [], str(refused)
    return {
        "saved": saved,
        "more_saved": len(readable) - len(saved),
        "compared": compared,
        "compare_error": compare_error,
        "saved_message": message,
        "saved_error": None,
    }


@router.get("/scenarios")
def scenarios_page(
    request: Request,
    viewer: PageViewer,
    asked: AskedInQuery,
    saved: Annotated[str | None, Query(max_length=_TEXT, description="A saved one.")] = None,
) -> HTMLResponse:
    initiatives = viewer.ledger.portfolio.initiatives()
    scenario, error = run(viewer.ledger, asked, saved)
    context = {
        "asked": asked,
        "initiatives": initiatives,
        "may_save": viewer.may("portfolio.write"),
        **_result(scenario, error),
        **_saved(viewer),
    }
    return render(request, viewer, "scenarios.html", context)


@router.get("/scenarios/run")
def run_partial(request: Request, viewer: PageViewer, asked: AskedInQuery) -> HTMLResponse:
    """The scenario's result alone (htmx swaps it into the page)."""
    scenario, error = run(viewer.ledger, asked)
    if not asked.given:
        error = "Choose an initiative."
    context = {
        "asked": asked,
        "may_save": viewer.may("portfolio.write"),
        **_result(scenario, error),
    }
    return render(request, viewer, "partials/scenario_result.html", context)


@router.post("/scenarios/save")
def save(
    request: Request,
    viewer: PageViewer,
    ledger: Annotated[Ledger, acting("portfolio.write")],
    asked: AskedInForm,
    name: Annotated[str, Form(max_length=_TEXT)] = "",
) -> HTMLResponse:
    """Save the scenario by name (replacing one of that name), as ``valuegap scenario save``;
    the answer is the saved scenarios, compared, with what happened."""
    try:
        found = ledger.outcomes.scenarios.save_scenario(
            name.strip(), asked.initiative, asked.changes()
        )
        context = _saved(viewer, f"Saved {name.strip()}: {found.initiative}, {found.changes}.")
    except ValuegapError as refused:
        context = _saved(viewer)
        context["saved_error"] = str(refused)
    return render(request, viewer, "partials/saved_scenarios.html", context)

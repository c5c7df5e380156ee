"""The what-if (假如) of a draft from the console: a past period replayed under the draft as a
background job (``api.jobs``, shared with the API), its progress, then the document the API and
``hotline workflow what-if --format json`` give, as tables. Admins and supervisors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hotline import errors
from hotline.api.jobs import DONE
from hotline.api.problems import Problem
from hotline.api.reports import MAX_DAYS
from hotline.console import audit, jobs, menu, pages, session
from hotline.console.definitions import MAX_DRAFT
from hotline.engine import periods
from hotline.persistence import MAX_ID
from hotline.reports import assessment
from hotline.service import Service
from hotline.simulation import whatif

router = APIRouter()
Planner = Annotated[session.Session, Depends(session.viewer(*menu.PLANNERS))]
Code = Annotated[str, Form(max_length=100)]
KIND = "what-if"
SHOWN = 100  # refusals listed on the page (the JSON has them all)
FIGURES = ("composite", "rank", "response_rate", "resolution_rate", "satisfaction_rate")


@router.get("/definitions-what-if")
def form(request: Request, viewer: Planner) -> Response:
    blank = {"draft": "", "period": "", "unit": "", "category": ""}
    return _form(request, viewer, blank | {"against": "", "sweep": "", "as_of": ""})


@router.post("/definitions-what-if")
def start(
    request: Request,
    viewer: Planner,
    draft: Annotated[str, Form(max_length=MAX_DRAFT)] = "",
    period: Annotated[str, Form(max_length=40)] = "",
    unit: Code = "",
    category: Code = "",
    against: Annotated[str, Form(max_length=20)] = "",
    sweep: Annotated[str, Form(max_length=20)] = "",
    as_of: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Check the draft and every option, start the replay, and go to the job's page.

    The options are the API's: ``against`` a published version replayed beside the draft
    (instead of the recorded history), ``sweep`` how often rungs fire (e.g. 1h), ``as_of``
    the instant histories are read up to (Beijing time; default now)."""
    svc: Service = request.app.state.service
    asked = {"draft": draft, "period": period, "unit": unit, "category": category}
    asked |= {"against": against, "sweep": sweep, "as_of": as_of}
    try:
        compiled = whatif.draft(svc, draft, "draft")
        replay = whatif.Request(
            _period(period),
            unit or None,
            category or None,
            audit.instant_of(as_of.strip(), "as_of") if as_of.strip() else None,
            whatif.sweep_interval(sweep.strip() or None),
        )
        assessment.check_unit(compiled.definition, replay.unit, "unit")
        whatif.check_category(compiled.definition, replay.category)
        version = _against(svc, compiled.definition.name, against)
    except errors.DefinitionError as invalid:
        return _form(request, viewer, asked, 422, problems=[str(p) for p in invalid.problems])
    except errors.HotlineError as refused:
        return _form(request, viewer, asked, 422, problems=[str(refused)])

    def work(progress: Any) -> dict[str, Any]:
        return whatif.run(svc, compiled, replay, "draft", version, progress).document()

    try:
        job = jobs.start(request, KIND, whatif.count(svc, compiled, replay), work)
    except Problem as busy:  # too many replays running in this process
        return _form(request, viewer, asked, busy.status, problems=[busy.detail])
    return RedirectResponse(f"/console/definitions-what-if/{job.id}", status_code=303)


# Before the page's route: that one would take "<id>.json" as a malformed id.
@router.get("/definitions-what-if/{job_id}.json")
def document(request: Request, job_id: jobs.JobId, viewer: Planner) -> Response:
    """The job as the API's ``GET /api/v1/definitions/what-if/{id}`` gives it."""
    job = jobs.find(request, job_id, KIND)
    return JSONResponse(job.record(f"/api/v1/definitions/what-if/{job.id}"))


@router.get("/definitions-what-if/{job_id}")
def progress(request: Request, job_id: jobs.JobId, viewer: Planner) -> Response:
    """The job's progress (the page reloads itself while it runs), then its result."""
    # One reading of the job, as its thread moves on: the status is read before the result,
    # which the thread sets first.
    job = jobs.find(request, job_id, KIND).record(f"/console/definitions-what-if/{job_id}")
    document = job["result"] if job["status"] == DONE else None
    return pages.render(
        request,
        "whatif.html",
        viewer,
        title="What-if of a draft",
        job=job,
        document=document,
        groups=[*document["units"], document["total"]] if document else [],
        figures=FIGURES,
        refusals=document["refused"]["listed"][:SHOWN] if document else [],
    )


def _period(text: str) -> periods.Period:
    """A period as the reports take it (2026-03), of a length a report answers."""
    if not text.strip():
        raise errors.InvalidField("period", "give a period such as 2026-03")
    chosen = periods.parse(text.strip())
    if (chosen.end - chosen.start).days > MAX_DAYS:
        raise errors.InvalidField("period", f"{text!r}: at most {MAX_DAYS} days")
    return chosen


def _against(svc: Service, name: str, text: str) -> int | None:
    """The published version to replay beside the draft, if one is named; it must exist."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_ID:
        raise errors.InvalidField("against", f"{text!r} is not a version number")
    svc.compiled(name, int(text))  # NotFound names the version
    return int(text)


def _form(
    request: Request,
    viewer: session.Session,
    asked: dict[str, str],
    status: int = 200,
    **found: object,
) -> Response:
    title = "What-if of a draft"
    return pages.render(request, "whatif_form.html", viewer, status, title=title, **asked, **found)

"""The console's background jobs: work too long for one request (a what-if replay, verifying or
sealing every chain, migrating running tickets) on the pool the API's what-if uses
(``api.jobs``: a few at once, forgotten when the server restarts). A form's POST checks what it
was given, starts the job and goes to the job's page, which reloads itself until it is done."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response

from hotline import errors
from hotline.api.jobs import DONE, Job, Jobs, Work
from hotline.api.problems import Problem
from hotline.console import pages, session

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]  # as api.jobs makes them


def pool(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


def start(request: Request, kind: str, total: int, work: Work) -> Job:
    """Start ``work``; ``api.problems.Problem`` 503 while too many jobs are running."""
    return pool(request).start(kind, total, work)


def find(request: Request, job_id: str, *kinds: str) -> Job:
    """The job, if it is one of ``kinds``; NotFound otherwise (or after a restart)."""
    try:
        found = pool(request).get(job_id)
    except Problem:  # the API's 404: the console answers with its own page
        found = None
    if found is None or found.kind not in kinds:
        raise errors.NotFound(f"no such job {job_id} (a restarted server forgets its jobs)")
    return found


def started(
    request: Request,
    viewer: session.Session,
    under: str,
    kind: str,
    total: int,
    work: Work,
    **page: Any,
) -> Response:
    """Start ``work`` and go to its page (``under``/id); too many running: say so, start none."""
    try:
        job = start(request, kind, total, work)
    except Problem as busy:
        return pages.render(request, "job.html", viewer, busy.status, busy=busy.detail, **page)
    return RedirectResponse(f"{under}/{job.id}", status_code=303)


def page(request: Request, viewer: session.Session, job: Job, **context: Any) -> Response:
    """The job's page (``job.html``): ``title``, ``back`` links, progress, then the result."""
    shown = snapshot(job)
    found = shown.result if shown.status == DONE else None
    return pages.render(request, "job.html", viewer, job=shown, found=found, **context)


def snapshot(job: Job) -> Job:
    """The job as it is now, read once: its thread sets the result before the status, so the
    status is read first. (The page read them apart: a job ending in between showed "done"
    with no result, and the page stopped reloading.)"""
    status = job.status
    return replace(job, status=status)

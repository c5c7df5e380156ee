"""Audit work that takes minutes at a city's scale, run as background jobs: verifying every
chain (against the latest seal, or a seal file an auditor kept) and sealing every chain head.

A request only checks what it was given and starts the job on the pool the what-if uses
(``api.jobs``: a few at once, forgotten when the server restarts: the work writes nothing but
a seal, which is simply taken again); the job's page reloads itself until it is done, then
shows what was found. Verifying one ticket stays in the audit page's own request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from hotline import errors
from hotline.admin import audit
from hotline.api.jobs import DONE, Job, Jobs
from hotline.api.problems import Problem
from hotline.console import audit as console_audit
from hotline.console import menu, pages, session
from hotline.persistence.history import Seal
from hotline.service import Service

router = APIRouter()
Auditor = Annotated[session.Session, Depends(session.viewer(*menu.AUDIT))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]  # as api.jobs makes them
VERIFY, SEAL = "audit-verify", "audit-seal"
MAX_SEAL = 200_000  # bytes of a seal file: a Merkle seal is a few hundred


@router.post("/audit/verify")
def verify_all(request: Request, viewer: Auditor) -> Response:
    """Every chain recomputed and checked against the database's latest seal."""
    return _verify(request, viewer, None)


@router.post("/audit/seals/verify")
async def verify_against_file(
    request: Request,
    viewer: Auditor,
    seal: UploadFile | None = None,
    seal_text: Annotated[str, Form(max_length=MAX_SEAL)] = "",
) -> Response:
    """Every chain checked against the seal file given (uploaded, or its text pasted)."""
    text = seal_text.strip()
    if seal is not None and seal.filename:
        text = (await seal.read(MAX_SEAL + 1)).decode("utf-8", errors="replace")
        if len(text) > MAX_SEAL:
            raise errors.HotlineError(f"the seal file is larger than {MAX_SEAL} bytes: not a seal")
    if not text:
        raise errors.HotlineError("give the seal file, or paste its text")
    audit.parse_seal(text, audit.UPLOADED)  # not a seal: said now, before any job starts
    return _verify(request, viewer, text)


@router.post("/audit/seals/seal")
def seal_now(request: Request, viewer: Auditor) -> Response:
    """Seal every chain head now; the job's page offers the seal's file to keep."""
    svc: Service = request.app.state.service

    def work(progress: Any) -> dict[str, Any]:
        sealed = audit.seal(svc)
        progress(1)
        return _sealed(sealed)

    return _started(request, viewer, SEAL, 1, work)


@router.get("/audit/jobs/{job_id}")
def job_page(request: Request, job_id: JobId, viewer: Auditor) -> Response:
    """The job's progress (the page reloads itself while it runs), then what it found."""
    job = _job(request, job_id)
    found = job.result if job.status == DONE else None
    return pages.render(request, "audit_job.html", viewer, title="Audit", job=job, found=found)


def _verify(request: Request, viewer: session.Session, seal_text: str | None) -> Response:
    svc: Service = request.app.state.service

    def work(progress: Any) -> dict[str, Any]:
        done = 0

        def checked() -> None:
            nonlocal done
            done += 1
            progress(done)

        found = audit.verify(svc, None, None, checked, seal_text)
        return console_audit.summary(found, given=seal_text is not None)

    return _started(request, viewer, VERIFY, svc.count_histories(None), work)


def _started(
    request: Request, viewer: session.Session, kind: str, total: int, work: Any
) -> Response:
    jobs: Jobs = request.app.state.jobs
    try:
        job = jobs.start(kind, total, work)
    except Problem as busy:  # too many jobs running in this process
        return pages.render(
            request, "audit_job.html", viewer, busy.status, title="Audit", busy=busy.detail
        )
    return RedirectResponse(f"/console/audit/jobs/{job.id}", status_code=303)


def _job(request: Request, job_id: str) -> Job:
    jobs: Jobs = request.app.state.jobs
    try:
        job = jobs.get(job_id)
    except Problem:
        job = None
    if job is None or job.kind not in (VERIFY, SEAL):
        raise errors.NotFound(f"no audit job {job_id} (a restarted server forgets its jobs)")
    return job


def _sealed(sealed: Seal) -> dict[str, Any]:
    return {
        "id": sealed.id,
        "day": sealed.day,
        "sealed_at": sealed.sealed_at,
        "tickets": sealed.tickets,
        "root": sealed.root,
        "digest": sealed.digest,
    }

"""Audit work that takes minutes at a city's scale, run as background jobs: verifying every
chain (against the latest seal, or a seal file an auditor kept) and sealing every chain head.

A request only checks what it was given and starts the job on the pool the what-if uses
(``api.jobs``: a few at once, forgotten when the server restarts: the work writes nothing but
a seal, which is simply taken again); the job's page reloads itself until it is done, then
shows what was found. Verifying one ticket stays in the audit page's own request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from hotline import errors
from hotline.admin import audit
from hotline.console import audit as console_audit
from hotline.console import jobs, menu, session
from hotline.service import Service

router = APIRouter()
Auditor = Annotated[session.Session, Depends(session.viewer(*menu.AUDIT))]
VERIFY, SEAL = "audit-verify", "audit-seal"
PAGE = {
    "title": "Audit",
    "back": (("/console/audit", "Audit"), ("/console/audit/seals", "Seals and export")),
}
UNDER = "/console/audit/jobs"
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

    return jobs.started(request, viewer, UNDER, SEAL, 1, work, **PAGE)


@router.get("/audit/jobs/{job_id}")
def job_page(request: Request, job_id: jobs.JobId, viewer: Auditor) -> Response:
    """The job's progress (the page reloads itself while it runs), then what it found."""
    return jobs.page(request, viewer, jobs.find(request, job_id, VERIFY, SEAL), **PAGE)


def _verify(request: Request, viewer: session.Session, seal_text: str | None) -> Response:
    svc: Service = request.app.state.service

    def work(progress: Any) -> dict[str, Any]:
        found = audit.verify(svc, None, None, lambda: progress(1), seal_text)
        return console_audit.summary(found, given=seal_text is not None)

    return jobs.started(request, viewer, UNDER, VERIFY, svc.count_histories(None), work, **PAGE)


def _sealed(sealed: audit.Seal) -> dict[str, Any]:
    return {
        "id": sealed.id,
        "day": sealed.day,
        "sealed_at": sealed.sealed_at,
        "tickets": sealed.tickets,
        "root": sealed.root,
        "digest": sealed.digest,
    }

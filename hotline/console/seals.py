"""Audit: the seals of the chain heads with their files (sealing and verifying against a seal
file run as jobs: ``audit_jobs``), and the export of the history for a date range, as
``hotline audit export`` does."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from hotline import errors
from hotline.admin import audit
from hotline.console import menu, pages, session
from hotline.persistence import MAX_ID
from hotline.service import Service

router = APIRouter()
Auditor = Annotated[session.Session, Depends(session.viewer(*menu.AUDIT))]
Day = Annotated[str, Query(max_length=10)]
LISTED = 60  # seals shown: two months of daily seals
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get("/audit/seals")
def seals_page(request: Request, viewer: Auditor) -> Response:
    return _page(request, viewer)


@router.get("/audit/seals/{seal_id}.json")
def seal_file(
    request: Request, seal_id: Annotated[int, Path(ge=1, le=MAX_ID)], viewer: Auditor
) -> Response:
    """The seal's file, as ``hotline audit seal --file`` wrote it."""
    found, content = audit.seal_file(request.app.state.service, seal_id)
    filename = f"seal-{found.day}.json"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return JSONResponse(content, headers=disposition)


@router.get("/audit/export")
def export(
    request: Request,
    viewer: Auditor,
    since: Day = "",
    until: Day = "",
    fmt: Annotated[str, Query(alias="format", max_length=5)] = "jsonl",
) -> Response:
    """Every event from the first day to the last (Beijing days, both included), to download."""
    if fmt not in audit.EXPORT_FORMATS:
        raise errors.InvalidField("format", "choose jsonl or csv")
    first, last = _day(since, "since"), _day(until, "until")
    if last < first:
        raise errors.InvalidField("until", f"{until} is before {since}")
    start = datetime.combine(first, time(), pages.BEIJING)
    end = datetime.combine(last + timedelta(days=1), time(), pages.BEIJING)
    svc: Service = request.app.state.service
    lines = audit.export_lines(audit.export(svc, start, end), fmt)
    name = f"events-{first}-{last}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(lines, media_type=MEDIA[fmt], headers=disposition)


def _page(request: Request, viewer: session.Session, **found: Any) -> Response:
    svc: Service = request.app.state.service
    listed = audit.seals(svc, LISTED)
    title = "Seals and export"
    return pages.render(request, "seals.html", viewer, title=title, seals=listed, **found)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise errors.InvalidField(name, f"{text!r} is not a day like 2026-03-02") from None

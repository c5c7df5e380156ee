"""Audit: verify the history chains (all, or one ticket), a ticket as it was at an instant,
and the personal-data access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hotline import errors
from hotline.admin import audit
from hotline.api import deps
from hotline.console import menu, pages, session
from hotline.engine import access
from hotline.persistence import MAX_ID
from hotline.service import Service

router = APIRouter()
Auditor = Annotated[session.Session, Depends(session.viewer(*menu.AUDIT))]
TicketNo = Annotated[int | None, Query(ge=1, le=MAX_ID)]
LOGGED = 200
LISTED = 200  # problems of a verification shown (the count says how many there were)


@router.get("/audit")
def audit_page(
    request: Request,
    viewer: Auditor,
    verify: Annotated[str, Query(max_length=12)] = "",
    ticket: TicketNo = None,
    at: Annotated[str, Query(max_length=40)] = "",
    log_ticket: TicketNo = None,
) -> Response:
    """Each section answers its own form; what was asked and found is shown together."""
    svc: Service = request.app.state.service
    return pages.render(
        request,
        "audit.html",
        viewer,
        title="Audit",
        verify=verify,
        verified=summary(_verify(svc, verify), given=False) if verify else None,
        ticket=ticket,
        at=at,
        past=_as_of(svc, viewer, ticket, at) if ticket else None,
        may_rebuild=viewer.principal.role in menu.TICKET_READERS,
        log_ticket=log_ticket,
        accesses=svc.accesses(log_ticket, LOGGED),
    )


def _verify(svc: Service, which: str) -> audit.Report:
    """One ticket's chain, by its inclusion proof (every chain is a job: ``audit_jobs``)."""
    if not which.isdigit() or not 1 <= int(which) <= MAX_ID:
        raise errors.InvalidField("verify", f"{which!r} is not a ticket number")
    return audit.verify(svc, int(which))


def summary(report: audit.Report, given: bool) -> dict[str, Any]:
    """What a verification found, as the page shows it (``verified.html``); ``given``: checked
    against a seal file the auditor kept rather than the database's latest seal."""
    seal = report.seal
    return {
        "checked": report.checked,
        "ok": report.ok,
        "problems": report.problems[:LISTED],
        "problem_count": len(report.problems),
        "given": given,
        "seal_at": seal.sealed_at if seal else None,
    }


def _as_of(svc: Service, viewer: session.Session, ticket_id: int, at: str) -> dict[str, Any]:
    """The ticket rebuilt from its events as of ``at`` (Beijing time), with the instants of
    its events to step through; for the roles that may read tickets (as the API has it)."""
    if viewer.principal.role not in menu.TICKET_READERS:
        raise session.Refused(f"role {viewer.principal.role.value!r} may not read tickets")
    deps.visible_ticket(svc, viewer.principal, ticket_id)
    instant = instant_of(at, "at") if at else None
    try:
        past = audit.as_of(svc, ticket_id, instant)
    except errors.HotlineError as broken:
        return {"problem": str(broken), "events": []}
    private = not access.sees_personal_data(viewer.principal)
    events = [(e.seq, e.trigger, e.occurred_at) for e in svc.history(ticket_id)]
    fields = dict(past.fields) if past else {}
    return {
        "ticket": past,
        "fields": access.mask_values(fields) if private else fields,
        "events": events,
    }


def instant_of(text: str, field: str) -> datetime:
    """A moment as a form sends it (2026-03-02T14:05, Beijing time) or with its zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise errors.InvalidField(field, f"{text!r} is not a time like 2026-03-02T14:05") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=pages.BEIJING)

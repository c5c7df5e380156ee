"""Tickets: search with filters and paging, a ticket's page, its actions, and revealing the
complainant's contact (with a reason, logged)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hotline import errors
from hotline.api import deps
from hotline.console import filters, menu, pages, session, ticket_view
from hotline.engine import access
from hotline.engine.ticket import Ticket
from hotline.persistence import MAX_ID
from hotline.service import Service

router = APIRouter()
PAGE = 50
# Tickets one request reads at most when no index serves the filter (words in the summary, a
# unit's co-handled tickets): a page never waits on a scan of millions; the next page goes on.
SCAN = 50_000
Reader = Annotated[session.Session, Depends(session.viewer(*menu.TICKET_READERS))]
Actor = Annotated[session.Session, Depends(session.viewer(*menu.TICKET_ACTORS))]
ContactReader = Annotated[session.Session, Depends(session.viewer(*menu.CONTACT_READERS))]
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]
Trigger = Annotated[str, Path(pattern=filters.CODE.pattern)]


@router.get("/tickets")
def listing(request: Request, viewer: Reader) -> Response:
    svc: Service = request.app.state.service
    query = dict(request.query_params)
    try:
        found, searched = _search(svc, query, viewer.principal)
        problem = None
    except errors.InvalidField as wrong:
        found, searched, problem = [], None, str(wrong)
    more = None
    if found and len(found) == PAGE:
        more = {**query, "after": str(found[-1].id)}
    elif searched:  # a bounded scan ended short of a page: the next page searches on
        more = {**query, "after": str(searched)}
    shown = [t for t in found if access.visible(viewer.principal, t)]
    return pages.render(
        request,
        "tickets.html",
        viewer,
        400 if problem else 200,
        title="Tickets",
        tickets=shown,
        query=query,
        more=more,
        searched=searched,
        problem=problem,
        choices=_choices(svc),
        now=svc.clock.now(),
    )


def _search(
    svc: Service, query: dict[str, str], principal: access.Principal
) -> tuple[list[Ticket], int | None]:
    """A page of the tickets the form asks for, and, when a bounded scan (``SCAN``) stopped
    short of the newest ticket, the id it searched up to."""
    where = filters.read(query, principal, svc.clock.now())
    start = filters.after(query)
    if filters.unindexed(where):
        where = dataclasses.replace(where, id_at_most=start + SCAN)
    found = svc.find_tickets(where, start, PAGE)
    bound = where.id_at_most
    if len(found) < PAGE and bound is not None and bound < svc.newest_ticket_id():
        return found, bound
    return found, None


@router.get("/tickets/{ticket_id}")
def show(request: Request, ticket_id: TicketId, viewer: Reader, done: str = "") -> Response:
    return _page(request, viewer, ticket_id, done=done)


@router.post("/tickets/{ticket_id}/fire/{trigger}")
async def fire(request: Request, ticket_id: TicketId, trigger: Trigger, viewer: Actor) -> Response:
    """Fire ``trigger`` at the version the viewer saw: a stale one is refused and the page
    shows the ticket as it is now."""
    form = await request.form()
    seen = str(form.get("version", ""))
    if not seen.isdigit() or len(seen) > 10:
        raise errors.InvalidField("version", "the form lost the version you saw: reload the page")
    fields = ticket_view.fields_of(form)
    return await run_in_threadpool(_fire, request, viewer, ticket_id, trigger, fields, int(seen))


@router.post("/tickets/{ticket_id}/contact")
def reveal(
    request: Request,
    ticket_id: TicketId,
    viewer: ContactReader,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The contact unmasked, for a reason that goes to the access log with who and when."""
    svc: Service = request.app.state.service
    deps.visible_ticket(svc, viewer.principal, ticket_id)
    if len(reason.strip()) < 3 or "\x00" in reason:
        return _page(
            request, viewer, ticket_id, 400, problem="give a reason (3 characters or more)"
        )
    contact = svc.contact(ticket_id)
    svc.record_access(viewer.principal, ticket_id, reason.strip())
    return _page(request, viewer, ticket_id, contact=contact, notice="revealed")


def _fire(
    request: Request,
    viewer: session.Session,
    ticket_id: int,
    trigger: str,
    fields: dict[str, str],
    seen: int,
) -> Response:
    svc: Service = request.app.state.service
    principal = viewer.principal
    ticket = deps.visible_ticket(svc, principal, ticket_id)
    definition = svc.compiled(ticket.definition, ticket.definition_version).definition
    if not access.may_fire(principal, trigger, ticket, definition):
        raise session.Refused(f"role {principal.role.value!r} may not fire {trigger!r} here")
    if overreach := access.on_behalf(principal, ticket, trigger, fields, definition):
        raise session.Refused(overreach.rule)
    try:
        svc.fire(ticket_id, trigger, fields, principal.name, seen)
    except errors.StaleVersion as stale:
        return _page(request, viewer, ticket_id, 409, stale=stale)
    except errors.CommandError as refused:
        return _page(request, viewer, ticket_id, 400, problem=str(refused), trigger=trigger)
    return RedirectResponse(f"/console/tickets/{ticket_id}?done={trigger}", status_code=303)


def _page(
    request: Request, viewer: session.Session, ticket_id: int, status: int = 200, **extra: Any
) -> Response:
    svc: Service = request.app.state.service
    ticket = deps.visible_ticket(svc, viewer.principal, ticket_id)
    compiled = svc.compiled(ticket.definition, ticket.definition_version)
    private = not access.sees_personal_data(viewer.principal)
    now = svc.clock.now()
    masked = {k: access.mask(k, v) for k, v in svc.contact(ticket_id).items()}
    return pages.render(
        request,
        "ticket.html",
        viewer,
        status,
        title="Ticket",
        ticket=ticket,
        summary=access.mask_text(ticket.summary) if private else ticket.summary,
        fields=access.mask_values(dict(ticket.fields)) if private else dict(ticket.fields),
        masked=masked,
        rounds=ticket_view.timeline(compiled, svc.history(ticket_id), private),
        deadlines=ticket_view.open_deadlines(compiled, ticket, now),
        actions=ticket_view.actions(viewer.principal, ticket, compiled, svc.allowed(ticket)),
        links=svc.links(ticket_id),
        may_reveal=viewer.principal.role in menu.CONTACT_READERS,
        now=now,
        **extra,
    )


def _choices(svc: Service) -> dict[str, list[str]]:
    """What the search form offers, read from the stored definitions (the newest versions)."""
    states: dict[str, None] = {}
    channels: dict[str, None] = {}
    categories: dict[str, None] = {}
    units: dict[str, None] = {}
    for name, version in svc.latest_definitions():
        d = svc.compiled(name, version).definition
        states |= dict.fromkeys(d.state_names)
        channels |= dict.fromkeys(d.channels)
        categories |= dict.fromkeys(c.code for c in d.categories)
        units |= dict.fromkeys(u.code for u in d.units)
    return {
        "state": list(states),
        "channel": list(channels),
        "category": list(categories),
        "unit": list(units),
    }

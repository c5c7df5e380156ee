"""/api/v1/tickets: submit, get, list, fire a trigger, history."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from hotline.api import deps, schemas
from hotline.api.auth import allow
from hotline.api.deps import CODE, TicketId
from hotline.api.problems import Problem
from hotline.engine import access
from hotline.engine.access import Principal, Role
from hotline.engine.ticket import Ticket
from hotline.persistence import queries
from hotline.service import Intake, Service

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Svc = Annotated[Service, Depends(deps.service)]
Reader = Annotated[
    Principal, Depends(allow(Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.AUDITOR))
]
Actor = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.UNIT, Role.SUPERVISOR))]
Intaker = Annotated[Principal, Depends(allow(Role.OPERATOR))]
Code = Annotated[str | None, Query(pattern=CODE)]


@router.post("/tickets", status_code=201, response_model=schemas.TicketOut)
def submit(
    body: schemas.TicketIn,
    principal: Intaker,
    svc: Svc,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Take in a ticket (受理). A repeated ``Idempotency-Key`` (keys are the token's own) with
    the same body returns the first ticket; with another body it is refused with 422; an empty
    one with 400."""
    if idempotency_key is not None and not idempotency_key.strip():
        raise Problem(
            400, "invalid-idempotency-key", "Idempotency-Key is empty", field="Idempotency-Key"
        )
    c = body.contact
    intake = Intake(
        body.category,
        body.summary,
        body.urgency,
        body.channel,
        c.name,
        c.phone,
        c.address,
        body.fields,
    )
    options = {"definition": body.definition} if body.definition else {}
    ticket = svc.submit(intake, principal.name, idempotency_key, **options)
    # The contact as given (a repeated key comes with the same body): no read-back.
    given = {"name": c.name, "phone": c.phone, "address": c.address}
    out = _out(svc, ticket, principal, _masked(given))
    return _answer(out, 201, Location=f"/api/v1/tickets/{ticket.id}")


@router.get("/tickets", response_model=schemas.TicketPage)
def list_tickets(
    principal: Reader,
    svc: Svc,
    state: Code = None,
    unit: Code = None,
    category: Code = None,
    channel: Code = None,
    overdue: bool = False,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> schemas.TicketPage:
    """Tickets oldest first, filtered; a unit token sees only the tickets it leads or co-handles
    and those whose whistle summons it."""
    where = queries.TicketFilter(
        state=state,
        unit=unit,
        category=category,
        channel=channel,
        overdue_at=svc.clock.now() if overdue else None,
        created_after=_aware(created_after, "created_after"),
        created_before=_aware(created_before, "created_before"),
        visible_to_unit=principal.unit if principal.role is Role.UNIT else None,
    )
    page = svc.find_tickets(where, _after(cursor), limit)
    # The SQL already filters by visibility; the Python rule is a second lock on personal
    # data. The cursor follows the page the database returned, so a row either rule drops
    # can never end the listing early.
    next_cursor = _cursor(page[-1].id) if len(page) == limit else None
    shown = [t for t in page if access.visible(principal, t)]
    return schemas.TicketPage(
        items=[schemas.ticket_out(t, svc.allowed(t), private=_private(principal)) for t in shown],
        next_cursor=next_cursor,
    )


@router.get("/tickets/{ticket_id}", response_model=schemas.TicketOut)
def get_ticket(ticket_id: TicketId, principal: Reader, svc: Svc) -> Response:
    """A ticket with its open deadlines, allowed triggers and masked contact; ETag: version."""
    view = svc.view(ticket_id)  # one read transaction: a command's answer stays one ticket read
    ticket = deps.visible(principal, view.read.ticket)
    out = _out(svc, ticket, principal, _masked(view.read.contact))
    out.links = schemas.Links(to=view.read.links.to, by=view.read.links.by)
    out.rounds = view.rounds
    return _answer(out)


@router.post("/tickets/{ticket_id}/transitions/{trigger}", response_model=schemas.TicketOut)
def fire(
    ticket_id: TicketId,
    trigger: Annotated[str, Path(pattern=CODE)],
    body: schemas.FireIn,
    principal: Actor,
    svc: Svc,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> Response:
    """Fire ``trigger`` with its fields. ``If-Match`` is the version you last read; a stale one
    gets 409 with ``current_version``. Whistle steps are triggers like any other; who may fire
    each is the performer its definition names, and a unit token answers a whistle only for
    its own department."""
    expected = _version(if_match)
    ticket = deps.visible_ticket(svc, principal, ticket_id)
    # Checked on the ticket as read: the write happens only at the If-Match version, so a
    # ticket changed since (a new whistle, a new lead) is refused as stale, not misjudged.
    definition = svc.compiled(ticket.definition, ticket.definition_version).definition
    if not access.may_fire(principal, trigger, ticket, definition):
        allowed = [
            t for t in svc.allowed(ticket) if access.may_fire(principal, t, ticket, definition)
        ]
        detail = f"role {principal.role.value!r} may not fire {trigger!r} on this ticket"
        raise Problem(
            403,
            "forbidden-trigger",
            f"{detail}; it may: {', '.join(allowed) or '-'}",
            allowed=allowed,
        )
    if overreach := access.on_behalf(principal, ticket, trigger, body.fields, definition):
        raise Problem(403, "acting-for-another-unit", overreach.rule, field=overreach.field)
    ticket = svc.fire(ticket_id, trigger, body.fields, principal.name, expected)
    return _answer(_out(svc, ticket, principal))


@router.get("/tickets/{ticket_id}/history", response_model=list[schemas.EventOut])
def history(ticket_id: TicketId, principal: Reader, svc: Svc) -> list[schemas.EventOut]:
    """The ticket's hash-chained history, oldest first."""
    deps.visible_ticket(svc, principal, ticket_id)
    return [schemas.event_out(e, _private(principal)) for e in svc.history(ticket_id)]


def _masked(contact: Mapping[str, str | None]) -> schemas.Contact:
    """The complainant's contact as every role sees it by default (条例 Art. 8): masked."""
    return schemas.Contact(**{k: access.mask(k, v) for k, v in contact.items()}, masked=True)


def _out(
    svc: Service, ticket: Ticket, principal: Principal, contact: schemas.Contact | None = None
) -> schemas.TicketOut:
    return schemas.ticket_out(ticket, svc.allowed(ticket), contact, _private(principal))


def _answer(out: schemas.TicketOut, status: int = 200, **headers: str) -> Response:
    """The ticket as JSON, its version as ETag. Serialized here: a sync route returning its
    model has FastAPI validate it again against ``response_model``, in one more trip through
    the thread pool (the OpenAPI document still names the model)."""
    body = out.model_dump_json(by_alias=True)
    headers = {"ETag": f'"{out.version}"', **headers}
    return Response(body, status, headers, media_type="application/json")


def _private(principal: Principal) -> bool:
    """Does the caller get free text with its phone and ID-card numbers masked?"""
    return not access.sees_personal_data(principal)


def _version(if_match: str | None) -> int:
    if if_match is None:
        raise Problem(
            428, "if-match-required", "send If-Match with the ticket version you last read"
        )
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()):
        raise Problem(
            400, "invalid-if-match", f'If-Match {if_match!r}: expected a version like "3"'
        )
    return int(text)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Problem(
            422, "invalid-field", f"{name}: give a time zone (e.g. +08:00 or Z)", field=name
        )
    return value


def _cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{last_id}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[:1] == "t" and text[1:].isdigit() and int(text[1:]) <= deps.MAX_ID:
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise Problem(
        422, "invalid-cursor", f"cursor {cursor!r} is not one this API handed out", field="cursor"
    )

"""Personal data (条例 Art. 8): the unmasked contact, only with a reason, and its access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.api import deps, schemas
from hotline.api.auth import allow
from hotline.api.deps import TicketId
from hotline.engine.access import Principal, Role
from hotline.persistence import tokens
from hotline.service import Service

router = APIRouter(prefix="/api/v1", tags=["personal data"])
Svc = Annotated[Service, Depends(deps.service)]


@router.get("/tickets/{ticket_id}/contact", response_model=schemas.Contact)
def contact(
    ticket_id: TicketId,
    reason: Annotated[str, Query(min_length=3, max_length=500, pattern=r"^[^\x00]*$")],
    principal: Annotated[Principal, Depends(allow(Role.OPERATOR, Role.UNIT))],
    svc: Svc,
) -> schemas.Contact:
    """The complainant's name, phone and address unmasked, for the roles whose work needs them.

    Every read is logged with who, when and the ``reason`` given (e.g. "first contact").
    """
    deps.visible_ticket(svc, principal, ticket_id)
    found = svc.contact(ticket_id)
    svc.record_access(principal, ticket_id, reason)
    return schemas.Contact(**found, masked=False)


@router.get("/access-log", response_model=list[tokens.Access])
def access_log(
    principal: Annotated[Principal, Depends(allow(Role.AUDITOR, Role.ADMIN))],
    svc: Svc,
    ticket_id: Annotated[int | None, Query(ge=1, le=deps.MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[tokens.Access]:
    """Who read personal data unmasked, when and why, newest first."""
    return svc.accesses(ticket_id, limit)

"""What routes share: the service, ticket lookup under the visibility rule, path and query types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from hotline import errors
from hotline.engine import access
from hotline.engine.access import Principal
from hotline.engine.ticket import Ticket
from hotline.persistence import MAX_ID
from hotline.service import Service

# Ids are bounded by what the id columns hold on every store (PostgreSQL INTEGER): a bigger
# one is a clear 422, never an overflow in the database.
TicketId = Annotated[int, Path(ge=1, le=MAX_ID, description="The ticket's id.")]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
# Codes (states, units, categories, channels, triggers) are plain names: this keeps odd bytes
# away from the database and gives a clear 422 instead.
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


async def service(request: Request) -> Service:
    # async: FastAPI runs a plain function dependency in the thread pool, a thread hop per
    # request for an attribute read.
    return request.app.state.service


def visible_ticket(svc: Service, principal: Principal | None, ticket_id: int) -> Ticket:
    """The ticket, or UnknownTicket when the caller may not see it (its existence is private)."""
    return visible(principal, svc.get(ticket_id))


def visible(principal: Principal | None, ticket: Ticket) -> Ticket:
    """The ticket, or UnknownTicket when the caller may not see it."""
    if principal is not None and not access.visible(principal, ticket):
        raise errors.UnknownTicket(ticket.id)
    return ticket

"""Open311 GeoReport v2 under /open311/v2, so existing Open311 clients and apps work unchanged.

Services are the definition's categories. Requests posted here are tickets with channel
``open311``, taken in through the same service; only those tickets are listed here, with the
complainant's data left out and the location rounded to about 100 m (条例 Art. 8).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query

from hotline import errors
from hotline.api import deps
from hotline.api.auth import ANYONE, allow
from hotline.api.problems import Problem
from hotline.engine import access
from hotline.engine.access import Principal, Role
from hotline.engine.ticket import Ticket
from hotline.persistence import queries
from hotline.service import Intake, Service
from hotline.workflows import loader

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
Svc = Annotated[Service, Depends(deps.service)]
Public = Annotated[None, Depends(ANYONE)]
CHANNEL = "open311"
Text = Annotated[str | None, Form(max_length=10_000, pattern=r"^[^\x00]*$")]


@router.get("/services.json")
def services(_: Public, svc: Svc) -> list[dict[str, Any]]:
    """The service list: one service per category of the default definition."""
    definition = svc.compiled(loader.DEFAULT).definition
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.name,
            "metadata": False,
            "type": "realtime",
            "keywords": c.kind,
            "group": c.kind,
        }
        for c in definition.categories
    ]


@router.post("/requests.json", status_code=201)
def create_request(
    principal: Annotated[Principal, Depends(allow(Role.OPERATOR))],
    svc: Svc,
    service_code: Annotated[str, Form(pattern=deps.CODE)],
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    long: Annotated[float | None, Form(ge=-180, le=180)] = None,
    address_string: Text = None,
    address_id: Text = None,
    first_name: Text = None,
    last_name: Text = None,
    phone: Text = None,
    description: Text = None,
    media_url: Text = None,
    api_key: Text = None,
) -> list[dict[str, Any]]:
    """Post a service request; it becomes a ticket (channel ``open311``)."""
    if address_string is None and address_id is None and (lat is None or long is None):
        raise Problem(400, "invalid-field", "give lat and long, or address_string", field="lat")
    name = " ".join(filter(None, (first_name, last_name))) or None
    where = {"lat": lat, "long": long, "address_id": address_id, "media_url": media_url}
    intake = Intake(
        category=service_code,
        summary=description or "",
        channel=CHANNEL,
        contact_name=name,
        contact_phone=phone,
        contact_address=address_string,
        fields={k: v for k, v in where.items() if v is not None},
    )
    ticket = svc.submit(intake, actor=principal.name)
    return [{"service_request_id": str(ticket.id), "service_notice": "", "account_id": None}]


@router.get("/requests.json")
def requests(
    _: Public,
    svc: Svc,
    service_request_id: Annotated[str | None, Query(pattern=r"^\d{1,18}(,\d{1,18})*$")] = None,
    service_code: Annotated[str | None, Query(pattern=deps.CODE)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(pattern=r"^(open|closed)(,(open|closed))?$")] = None,
) -> list[dict[str, Any]]:
    """Requests by id list, or by service, date range and status (at most 1000)."""
    if service_request_id:
        found = [_open311_ticket(svc, int(i)) for i in service_request_id.split(",")]
        return [_request(svc, t) for t in found if t is not None]
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is not None and value.tzinfo is None:
            raise Problem(422, "invalid-field", f"{name}: give a time zone", field=name)
    where = queries.TicketFilter(
        category=service_code, channel=CHANNEL, created_after=start_date, created_before=end_date
    )
    statuses = set(status.split(",")) if status else {"open", "closed"}
    found = svc.find_tickets(where, 0, 1000)
    return [r for r in (_request(svc, t) for t in found) if r["status"] in statuses]


@router.get("/requests/{service_request_id}.json")
def request(
    service_request_id: Annotated[int, Path(ge=1, le=2**62)], _: Public, svc: Svc
) -> list[dict[str, Any]]:
    """One request, as a one-element list (the GeoReport convention)."""
    ticket = _open311_ticket(svc, service_request_id)
    if ticket is None:
        raise errors.UnknownTicket(service_request_id)
    return [_request(svc, ticket)]


def _open311_ticket(svc: Service, ticket_id: int) -> Ticket | None:
    try:
        ticket = svc.get(ticket_id)
    except errors.UnknownTicket:
        return None
    return ticket if ticket.channel == CHANNEL else None


def _request(svc: Service, t: Ticket) -> dict[str, Any]:
    definition = svc.compiled(t.definition, t.definition_version).definition
    category = definition.category(t.category)
    unit = definition.unit(t.lead_unit) if t.lead_unit else None
    notes = next((t.fields[f] for f in definition.public_notes if t.fields.get(f)), None)
    due = min((d.due_at for d in t.deadlines), default=None)
    return {
        "service_request_id": str(t.id),
        "status": "closed" if t.state == definition.final else "open",
        "status_notes": f"{t.state}: {notes}" if notes else t.state,
        "service_name": category.name if category else t.category,
        "service_code": t.category,
        "description": t.summary,
        "agency_responsible": unit.name if unit else t.lead_unit,
        "service_notice": "",
        "requested_datetime": t.created_at.isoformat() if t.created_at else None,
        "updated_datetime": t.updated_at.isoformat() if t.updated_at else None,
        "expected_datetime": due.isoformat() if due else None,
        "address": access.mask("address", svc.contact(t.id)["address"]),
        "address_id": t.fields.get("address_id"),
        "lat": _rounded(t.fields.get("lat")),
        "long": _rounded(t.fields.get("long")),
        "media_url": t.fields.get("media_url"),
    }


def _rounded(value: Any) -> float | None:
    return round(value, 3) if isinstance(value, int | float) else None

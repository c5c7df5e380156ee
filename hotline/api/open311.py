"""Open311 GeoReport v2 under /open311/v2, in JSON and XML, so Open311 clients and city apps
work unchanged.

Services are the default definition's categories; their attributes are the intake's urgency
and the fields a category declares. Requests posted here are tickets with channel ``open311``,
taken in through the same service; only those tickets are listed here, with the complainant's
data left out, the address masked and the location rounded to about 100 m (条例 Art. 8).

A request is created at once, so its id is known when the POST answers; the answer also
carries a ``token`` (the id itself) for clients that follow GeoReport's token route.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

from hotline.api import deps
from hotline.api import open311_format as fmt
from hotline.api import open311_input as given
from hotline.api import open311_views as views
from hotline.api.auth import ANYONE, allow
from hotline.api.problems import Problem
from hotline.engine.access import Principal, Role
from hotline.engine.definition import Category, Definition
from hotline.persistence import open311 as found  # the listing's filter and rows
from hotline.service import Intake, Service
from hotline.workflows import loader

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
Svc = Annotated[Service, Depends(deps.service)]
Public = Annotated[None, Depends(ANYONE)]
CHANNEL = "open311"
LIMIT = 1000  # the spec's cap on one listing
CHANGESET = "2026-12-06T00:00:00Z"  # when this implementation's routes last changed
# Text without NUL (no column stores it): the schema says so, and FastAPI refuses it with 422.
PLAIN = r"^[^\x00]*$"
# An unfilled form field ("" or "null") is no value.
Blank = BeforeValidator(given.blank)


def _optional(max_length: int, pattern: str = PLAIN) -> Any:
    """An optional form text; the constraints sit on the text so that None passes them."""
    text = Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]
    return Annotated[text | None, Blank, Form()]


def _coordinate(bound: int) -> Any:
    number = Annotated[float, Field(ge=-bound, le=bound, allow_inf_nan=False)]
    return Annotated[number | None, Blank, Form()]


Text = _optional(10_000)
Short = _optional(200)
Phone = _optional(40)
Email = _optional(254, r"^[^@\s\x00]+@[^@\s\x00]+$")
Url = _optional(2000, r"^https?://\S+$")
Latitude, Longitude = _coordinate(90), _coordinate(180)
Jurisdiction = Annotated[str | None, Query(max_length=200, pattern=PLAIN)]
Codes = Annotated[str | None, Query(max_length=101_000, pattern=given.CODES)]
Ids = Annotated[str | None, Query(max_length=21_000, pattern=r"^[0-9]{1,20}(,[0-9]{1,20})*$")]
Statuses = Annotated[str | None, Query(pattern=r"^(open|closed)(,(open|closed))*$")]
Date = Annotated[AwareDatetime | None, Query(description="W3C date-time with its offset")]
Format = Annotated[str, Path(description="`json` or `xml`: the answer's format.")]
# Bodies are GeoReport's own, in the format the path names; errors are its error list.
_BOTH = {"application/json": {}, "text/xml": {}}
_ERRORS = {
    status: {"description": f"{title} (GeoReport error list)", "content": _BOTH}
    for status, title in ((400, "Bad request"), (404, "Not found"), (422, "Invalid parameter"))
}
READ: dict[int | str, dict[str, Any]] = {200: {"description": "OK", "content": _BOTH}, **_ERRORS}
WRITE: dict[int | str, dict[str, Any]] = {
    201: {"description": "Created", "content": _BOTH},
    **_ERRORS,
    401: {"description": "No or unknown API token", "content": _BOTH},
    403: {"description": "The token's role may not post", "content": _BOTH},
    413: {"description": "Body over the size limit", "content": _BOTH},
}


@router.get("/discovery.{format}", response_class=Response, responses=READ)
def discovery(format: Format, _: Public, request: Request) -> Response:
    """Where the endpoints are, which formats they speak, and whom to ask for a key."""
    contact = os.environ.get("HOTLINE_OPEN311_CONTACT", "the hotline centre")
    body = views.discovery(str(request.base_url), CHANGESET, contact)
    return fmt.render(body, _format(format), "discovery")


@router.get("/services.{format}", response_class=Response, responses=READ)
def services(format: Format, _: Public, svc: Svc, jurisdiction_id: Jurisdiction = None) -> Response:
    """The service list: one service per category of the default definition."""
    body = views.services(_definition(svc))
    return fmt.render(body, _format(format), "services")


@router.get("/services/{service_code}.{format}", response_class=Response, responses=READ)
def service_definition(
    service_code: str, format: Format, _: Public, svc: Svc, jurisdiction_id: Jurisdiction = None
) -> Response:
    """A service's attributes: what a request of that service may (or must) answer."""
    definition = _definition(svc)
    body = views.service_definition(definition, _category(definition, service_code, 404))
    return fmt.render(body, _format(format), "service_definition")


async def _form(request: Request) -> dict[str, list[str]]:
    """Every text value of the posted form by name (``attribute[…]`` keys are open-ended)."""
    form = await request.form()
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}


@router.post("/requests.{format}", status_code=201, response_class=Response, responses=WRITE)
def create_request(  # noqa: PLR0913 - the spec's form fields, one parameter each
    format: Format,
    principal: Annotated[Principal, Depends(allow(Role.OPERATOR))],
    svc: Svc,
    form: Annotated[dict[str, list[str]], Depends(_form)],
    service_code: Annotated[str, Form(pattern=deps.CODE)],
    lat: Latitude = None,
    long: Longitude = None,
    address_string: Text = None,
    address_id: Short = None,
    email: Email = None,
    device_id: Short = None,
    account_id: Short = None,
    first_name: Short = None,
    last_name: Short = None,
    phone: Phone = None,
    description: Text = None,
    media_url: Url = None,
    jurisdiction_id: Short = None,
    api_key: Text = None,
) -> Response:
    """Post a service request; it becomes a ticket (channel ``open311``)."""
    out = _format(format)
    for name, values in form.items():
        for value in values:
            given.clean(name, value)
    if address_string is None and address_id is None and (lat is None or long is None):
        raise Problem(400, "invalid-field", "give lat and long, or address_string", field="lat")
    definition = _definition(svc)
    category = _category(definition, service_code, 400)
    answers = given.attributes(form, views.attribute_codes(definition, category))
    personal = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "device_id": device_id,
        "account_id": account_id,
    }
    place = {"lat": lat, "long": long, "address_id": address_id, "media_url": media_url}
    intake = _intake(category, answers, personal, place, description, phone, address_string)
    ticket = svc.submit(intake, actor=principal.name)
    body = [
        {
            "service_request_id": str(ticket.id),
            "token": str(ticket.id),
            "service_notice": "",
            "account_id": account_id,
        }
    ]
    return fmt.render(body, out, "service_requests", 201)


@router.get("/requests.{format}", response_class=Response, responses=READ)
def requests(  # noqa: PLR0913 - the spec's query parameters, one parameter each
    format: Format,
    _: Public,
    svc: Svc,
    service_request_id: Ids = None,
    service_code: Codes = None,
    start_date: Date = None,
    end_date: Date = None,
    status: Statuses = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Requests by id list (every other filter ignored), or by service, status and a date range
    of at most 90 days (the last 90 days by default); newest first, at most 1000."""
    out = _format(format)
    if service_request_id:
        ids = given.id_list(service_request_id)
        where = found.RequestFilter(CHANNEL, (), ids=ids)
        listed = svc.find_requests(where, LIMIT) if ids else []
        return fmt.render(_requests(svc, listed), out, "service_requests")
    start, end = given.instant("start_date", start_date), given.instant("end_date", end_date)
    span = given.window(start, end, svc.clock.now())
    where = found.RequestFilter(
        channel=CHANNEL,
        closed_states={_definition(svc).final},
        categories=given.code_list(service_code),
        since=span.since,
        until=span.until,
        status=given.status(status),
    )
    listed = svc.find_requests(where, LIMIT)
    return fmt.render(_requests(svc, listed), out, "service_requests")


@router.get("/requests/{service_request_id}.{format}", response_class=Response, responses=READ)
def request(service_request_id: str, format: Format, _: Public, svc: Svc) -> Response:
    """One request, as a one-element list (the GeoReport convention)."""
    out = _format(format)
    return fmt.render(_requests(svc, _one(svc, service_request_id)), out, "service_requests")


@router.get("/tokens/{token}.{format}", response_class=Response, responses=READ)
def token(token: str, format: Format, _: Public, svc: Svc) -> Response:
    """The request a token stands for. Hotline's tokens are the request ids themselves."""
    out = _format(format)
    (one,) = _one(svc, token)
    body = [{"service_request_id": str(one.ticket.id), "token": token}]
    return fmt.render(body, out, "service_requests")


def _intake(  # noqa: PLR0913 - the parts of a posted form, sorted by where they go
    category: Category,
    answers: dict[str, Any],
    personal: dict[str, str | None],
    place: dict[str, Any],
    description: str | None,
    phone: str | None,
    address: str | None,
) -> Intake:
    """The ticket a request becomes: personal data apart, place and attributes in its fields."""
    urgency = answers.pop(views.URGENCY, "normal")
    name = " ".join(filter(None, (personal["first_name"], personal["last_name"])))
    return Intake(
        category=category.code,
        summary=description or "",
        urgency=urgency if isinstance(urgency, str) else ",".join(urgency),
        channel=CHANNEL,
        contact_name=name or None,
        contact_phone=phone,
        contact_address=address,
        contact_more={k: v for k, v in personal.items() if v is not None} or None,
        fields={
            **{k: v for k, v in place.items() if v is not None},
            **given.category_fields(category, answers),
        },
    )


def _one(svc: Service, raw_id: str) -> list[found.Request]:
    number = given.request_id(raw_id)
    where = found.RequestFilter(CHANNEL, (), ids=[number] if number else [])
    listed = svc.find_requests(where, 1) if number else []
    if not listed:
        raise Problem(404, "not-found", f"no service request {raw_id!r}")
    return listed


def _requests(svc: Service, listed: list[found.Request]) -> list[dict[str, Any]]:
    def shown(one: found.Request) -> dict[str, Any]:
        t = one.ticket
        return views.request(svc.compiled(t.definition, t.definition_version).definition, one)

    return [shown(one) for one in listed]


def _format(value: str) -> str:
    if value not in fmt.FORMATS:
        raise Problem(404, "unknown-format", f"no format {value!r}; use .json or .xml")
    return value


def _definition(svc: Service) -> Definition:
    return svc.compiled(loader.DEFAULT).definition


def _category(definition: Definition, code: str, status: int) -> Category:
    category = definition.category(code)
    if category is None:
        known = ", ".join(c.code for c in definition.categories)
        raise Problem(status, "unknown-service", f"no service {code!r}; services: {known}")
    return category

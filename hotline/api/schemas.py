"""Request and response bodies of the JSON API. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from hotline.engine import access, limits
from hotline.engine.ticket import Event, Ticket
from hotline.engine.whistle import Whistle
from hotline.errors import InvalidField

Text = Field(default="", max_length=10_000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # NUL, lone surrogates and NaN pass JSON parsing but no store or encoder: refuse them
        # here, naming the member, rather than fail there.
        try:
            limits.check_values(data, "body")
        except InvalidField as error:
            raise ValueError(str(error)) from None
        return data


class ContactIn(Strict):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)


class TicketIn(Strict):
    """A new demand (诉求) to take in."""

    category: str = Field(min_length=1, max_length=100, examples=["water-supply"])
    summary: str = Text
    urgency: str | None = Field(
        default=None, max_length=40, description="default: the definition's first urgency"
    )
    channel: str = Field(default="app", max_length=40)
    contact: ContactIn = ContactIn()
    fields: dict[str, Any] = {}
    definition: str | None = Field(default=None, max_length=100)


class FireIn(Strict):
    """The fields the trigger needs (see the definition's transition)."""

    fields: dict[str, Any] = Field(default={}, examples=[{"lead_unit": "water-group"}])


OPEN311_ONLY = frozenset({"email", "device_id", "account_id"})


class Contact(BaseModel):
    name: str | None
    phone: str | None
    address: str | None
    # Given by Open311 requests only: left out of the body when the intake gave none.
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    masked: bool

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in OPEN311_ONLY}


class DeadlineOut(BaseModel):
    kind: str
    state: str
    status: str
    due_at: datetime
    provisional: bool = Field(
        default=False,
        description="Counted on plain weekdays over a year whose official holiday schedule is not "
        "published yet; recomputed (with a `deadlines_recomputed` event) once it is.",
    )


class Links(BaseModel):
    """Tickets this one names in a ``ticket`` field, and tickets naming it (Art. 11 repeats)."""

    to: dict[str, int] = Field(description="field -> the ticket it names, e.g. repeat_of")
    by: dict[str, list[int]] = Field(
        description="field -> the tickets naming this one: its repeats (how many citizens asked)"
    )


class TicketOut(BaseModel):
    id: int
    definition: str
    definition_version: int
    state: str
    version: int
    round: int
    category: str
    urgency: str
    channel: str
    summary: str
    lead_unit: str | None
    co_units: list[str]
    excluded: bool
    fields: dict[str, Any]
    allowed: list[str]
    deadlines: list[DeadlineOut]
    whistle: Whistle | None = Field(
        description="The latest whistle (吹哨报到), open or closed: who was summoned and answered."
    )
    contact: Contact | None = None
    links: Links | None = Field(default=None, description="Shown on a single ticket, not lists.")
    rounds: list[dict[str, Any]] | None = Field(
        default=None,
        description="Each handling round's record (再派件): round, unit, and the definition's "
        "round_record fields (opinion, resolved, satisfaction) with when each was given. "
        "Shown on a single ticket, not lists.",
    )
    created_at: datetime | None
    updated_at: datetime | None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class EventOut(BaseModel):
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str


def ticket_out(
    ticket: Ticket, allowed: list[str], contact: Contact | None = None, private: bool = False
) -> TicketOut:
    """The ticket as sent; ``private``: for a caller without personal-data rights, phone and
    ID-card numbers in its free text masked."""
    text = access.mask_values if private else _as_is
    return TicketOut(
        id=ticket.id,
        definition=ticket.definition,
        definition_version=ticket.definition_version,
        state=ticket.state,
        version=ticket.version,
        round=ticket.round,
        category=ticket.category,
        urgency=ticket.urgency,
        channel=ticket.channel,
        summary=text(limits.readable(ticket.summary)),
        lead_unit=ticket.lead_unit,
        co_units=list(ticket.co_units),
        excluded=ticket.excluded,
        fields=text(limits.readable(dict(ticket.fields))),
        allowed=allowed,
        deadlines=[
            DeadlineOut(
                kind=d.kind,
                state=d.state,
                status=d.status,
                due_at=d.due_at,
                provisional=d.provisional,
            )
            for d in ticket.deadlines
        ],
        whistle=ticket.whistle,
        contact=contact,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


def event_out(e: Event, private: bool = False) -> EventOut:
    text = access.mask_values if private else _as_is
    return EventOut(
        seq=e.seq,
        trigger=e.trigger,
        from_state=e.from_state,
        to_state=e.to_state,
        actor=e.actor,
        payload=text(limits.readable(dict(e.payload))),
        occurred_at=e.occurred_at,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


def _as_is(value: Any) -> Any:
    return value

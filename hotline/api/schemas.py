"""Request and response bodies of the JSON API. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.engine.ticket import Event, Ticket
from hotline.engine.whistle import Whistle

Text = Field(default="", max_length=10_000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here, naming it, rather than fail there.
        if "\x00" in repr(data):
            raise ValueError("text must not contain NUL characters")
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


class Contact(BaseModel):
    name: str | None
    phone: str | None
    address: str | None
    masked: bool


class DeadlineOut(BaseModel):
    kind: str
    state: str
    status: str
    due_at: datetime


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


def ticket_out(ticket: Ticket, allowed: list[str], contact: Contact | None = None) -> TicketOut:
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
        summary=ticket.summary,
        lead_unit=ticket.lead_unit,
        co_units=list(ticket.co_units),
        excluded=ticket.excluded,
        fields=dict(ticket.fields),
        allowed=allowed,
        deadlines=[
            DeadlineOut(kind=d.kind, state=d.state, status=d.status, due_at=d.due_at)
            for d in ticket.deadlines
        ],
        whistle=ticket.whistle,
        contact=contact,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


def event_out(e: Event) -> EventOut:
    return EventOut(
        seq=e.seq,
        trigger=e.trigger,
        from_state=e.from_state,
        to_state=e.to_state,
        actor=e.actor,
        payload=dict(e.payload),
        occurred_at=e.occurred_at,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )

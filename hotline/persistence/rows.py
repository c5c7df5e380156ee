"""Conversions between table rows and the engine's values."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from hotline.engine.ticket import Deadline, Event, Ticket
from hotline.engine.whistle import Whistle
from hotline.persistence.tables import (
    DeadlineRow,
    DefinitionRow,
    EventRow,
    FiringRow,
    OutboxRow,
    TicketRow,
)

tickets = TicketRow.__table__
events = EventRow.__table__
deadlines = DeadlineRow.__table__
outbox = OutboxRow.__table__
definitions = DefinitionRow.__table__
firings = FiringRow.__table__
OPEN = ("pending", "paused")  # the statuses of a deadline still running or paused

EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(Event))
DEADLINE_FIELDS = (
    "kind",
    "state",
    "status",
    "measure",
    "window",
    "consumed",
    "running_since",
    "due_at",
    "fire_at",
    "rung",
    "opened_at",
    "closed_at",
    "provisional",
)

# What a deadline write sets: its own fields, and the end of any sweeper's claim on it.
DEADLINE_COLUMNS = (*DEADLINE_FIELDS, "claimed_by", "claimed_until")


def ticket(row: Any, open_deadlines: tuple[Deadline, ...] = ()) -> Ticket:
    return Ticket(
        id=row.id,
        definition=row.definition_name,
        definition_version=row.definition_version,
        state=row.state,
        category=row.category,
        urgency=row.urgency,
        channel=row.channel,
        summary=row.summary,
        version=row.version,
        round=row.round,
        lead_unit=row.lead_unit,
        co_units=tuple(row.co_units or ()),
        excluded=row.excluded,
        fields=row.fields or {},
        seq=row.seq,
        head_hash=row.head_hash,
        deadlines=open_deadlines,
        created_at=row.created_at,
        updated_at=row.updated_at,
        whistle=Whistle.model_validate(row.whistle) if row.whistle else None,
    )


TICKET_COLUMNS = (
    "definition_version",
    "state",
    "version",
    "round",
    "category",
    "urgency",
    "lead_unit",
    "co_units",
    "excluded",
    "fields",
    "seq",
    "head_hash",
    "updated_at",
    tickets.c.whistle.key,  # the column of the ticket's whistle record
)
# What ``ticket`` reads from a row: those, and what never changes.
TICKET_SNAPSHOT = ("id", "definition_name", "channel", "summary", "created_at", *TICKET_COLUMNS)


# The JSON columns: compared as the ticket holds them, written as JSON-ready values.
_AS_JSON: dict[str, Any] = {
    tickets.c.co_units.key: list,
    tickets.c.fields.key: dict,
    tickets.c.whistle.key: lambda w: w.model_dump(mode="json") if w else None,
}


def changed_values(before: Ticket, after: Ticket) -> dict[str, Any]:
    """The columns of ``TICKET_COLUMNS`` a decision changed (the version always changes): an
    UPDATE of those alone leaves SQLite's indexes on the others untouched and encodes no JSON
    that did not change."""
    changed = {}
    for column in TICKET_COLUMNS:
        if (value := getattr(after, column)) != getattr(before, column):
            changed[column] = _AS_JSON[column](value) if column in _AS_JSON else value
    return changed


def event(row: Any) -> Event:
    return Event(**{name: getattr(row, name) for name in EVENT_FIELDS})


def event_columns() -> list[sa.Column[Any]]:
    """The events table's columns in ``Event``'s order: a row selected with them is an
    event's arguments, read by position (a fifth of the cost of reading them by name)."""
    return [events.c[name] for name in EVENT_FIELDS]


def event_values(e: Event) -> dict[str, Any]:
    return {name: getattr(e, name) for name in EVENT_FIELDS} | {"payload": dict(e.payload)}


def deadline(row: Any) -> Deadline:
    return Deadline(id=row.id, **{name: getattr(row, name) for name in DEADLINE_FIELDS})


def deadline_values(d: Deadline) -> dict[str, Any]:
    # Any write of a deadline ends a sweeper's claim on it.
    return {
        **{name: getattr(d, name) for name in DEADLINE_FIELDS},
        "claimed_by": None,
        "claimed_until": None,
    }

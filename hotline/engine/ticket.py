"""The values the engine works on: a ticket snapshot, a command, a recorded event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Ticket:
    """A work order (工单) as the engine sees it: no contact details, no database identity.

    ``version`` counts commands applied (optimistic locking); ``seq`` and ``head_hash`` are the
    position and hash of the last event in the ticket's history chain.
    """

    id: int
    definition: str
    definition_version: int
    state: str
    category: str
    urgency: str = "normal"
    channel: str = "phone"
    summary: str = ""
    version: int = 0
    round: int = 1
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    excluded: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0
    head_hash: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def evolve(self, **changes: Any) -> Ticket:
        return replace(self, **changes)


@dataclass(frozen=True)
class Command:
    """An imperative request to fire ``trigger`` on a ticket (``dispatch``, ``reply``…)."""

    trigger: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    actor: str = "system"
    expected_version: int | None = None


@dataclass(frozen=True)
class Event:
    """One entry of a ticket's append-only history, sealed into its hash chain."""

    ticket_id: int
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str

"""The values the engine works on: a ticket snapshot, a command, a recorded event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.engine import values

if TYPE_CHECKING:
    from hotline.engine.whistle import Whistle


@values.frozen
class Deadline:
    """A time limit on a ticket, counted in clock seconds of its measure (see ``calendar``).

    The clock keeps what it has consumed across pauses and extensions: ``due_at`` is always
    recomputed from ``window``, ``consumed`` and ``running_since``, never restarted.
    ``rung`` is the index of the next reminder or escalation to fire, at ``fire_at``.
    """

    kind: str
    state: str
    measure: str
    window: int
    opened_at: datetime
    due_at: datetime
    status: str = "pending"  # pending | paused | met | cancelled
    consumed: int = 0
    running_since: datetime | None = None  # None while paused
    fire_at: datetime | None = None  # None when no rung is left to fire
    rung: int = 0
    closed_at: datetime | None = None
    provisional: bool = False  # due_at counted over a year without an official schedule
    id: int | None = None  # None until stored

    @property
    def open(self) -> bool:
        return self.status in ("pending", "paused")

    evolve = values.evolve  # a copy with some fields changed


@values.frozen
class Ticket:
    """A work order (工单) as the engine sees it: no contact details, no database identity.

    ``version`` changes with every write (optimistic locking); ``seq`` and ``head_hash`` are the
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
    deadlines: tuple[Deadline, ...] = ()  # the open ones
    whistle: Whistle | None = None  # the latest whistle (吹哨报到), open or closed
    created_at: datetime | None = None
    updated_at: datetime | None = None

    evolve = values.evolve  # a copy with some fields changed


@values.frozen
class Command:
    """An imperative request to fire ``trigger`` on a ticket (``dispatch``, ``reply``…)."""

    trigger: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    actor: str = "system"
    expected_version: int | None = None


@values.frozen
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

"""What the engine decides: a frozen value the store writes in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotline.engine.ticket import Event, Ticket


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    MET = "met"  # closed by the trigger it waited for
    CANCELLED = "cancelled"  # its state was left first
    FIRED = "fired"


@dataclass(frozen=True)
class DeadlineOpened:
    kind: str
    state: str
    due_at: datetime
    opened_at: datetime
    measure: str
    window_seconds: int


@dataclass(frozen=True)
class DeadlinesClosed:
    """Close the pending deadlines of ``state`` (only ``kinds`` if given) with ``status``."""

    state: str
    status: DeadlineStatus
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxMessage:
    """A side effect for a handler, run after commit; ``key`` lets receivers drop repeats."""

    handler: str
    key: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    """The outcome of one command: ``before`` is what was read, ``after`` what to write."""

    before: Ticket
    after: Ticket
    events: tuple[Event, ...]
    opened: tuple[DeadlineOpened, ...] = ()
    closed: tuple[DeadlinesClosed, ...] = ()
    outbox: tuple[OutboxMessage, ...] = ()

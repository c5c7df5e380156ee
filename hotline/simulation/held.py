"""One ticket held in memory while it is replayed: its snapshot, deadline rows and history.

A replay writes one ticket at a time and never fails halfway (a refused command raises before
anything is written), so it needs none of ``MemoryStore``'s generality: no undo journal, no
outbox rows, no reload after each write. What it keeps is what the store would show the
engine, in the same order: the ticket with its open deadlines in row order, deadline rows
numbered 1, 2… as they are written, and the rungs due at an instant, earliest first.
"""

from __future__ import annotations

from datetime import datetime

from hotline.engine.decision import Decision
from hotline.engine.ticket import Deadline, Event, Ticket
from hotline.errors import AlreadyFired

TICKET_ID = 1  # the id a replayed ticket has: the first row of a store of its own
OPEN = ("pending", "paused")


class HeldTicket:
    """A replayed ticket as a store of its own would hold it."""

    def __init__(self, ticket: Ticket) -> None:
        """``ticket``: just taken in, with no deadline and no history yet."""
        self.ticket = ticket
        self.events: list[Event] = []
        self._open: dict[int, Deadline] = {}  # the open deadline rows by id, in id order
        self._written = 0  # deadline rows written: the next is numbered one more
        self._firings: set[tuple[int, str]] = set()
        # When the earliest pending rung falls due (None if nothing is pending).
        self.next_fire_at: datetime | None = None

    def apply(self, decision: Decision) -> None:
        """Write ``decision`` as the store does: its events, deadline rows and firings."""
        for deadline_id, _, key in decision.firings:
            if (deadline_id, key) in self._firings:
                raise AlreadyFired(f"deadline {deadline_id} rung {key} has fired already")
            self._firings.add((deadline_id, key))
        self.events += decision.events
        opened = self._write(decision.deadlines) if decision.deadlines else self.ticket.deadlines
        after = decision.after
        self.ticket = after if after.deadlines == opened else after.evolve(deadlines=opened)
        self.next_fire_at = min(
            (d.fire_at for d in opened if _pending(d)),
            default=None,
        )

    def _write(self, deadlines: tuple[Deadline, ...]) -> tuple[Deadline, ...]:
        """Write deadline rows, numbering new ones; the open ones after, in row order."""
        rows = self._open
        for deadline in deadlines:
            if deadline.id is None:
                self._written += 1
                deadline = deadline.evolve(id=self._written)
            if deadline.status in OPEN:  # a row closed never opens again: ids stay in order
                rows[deadline.id] = deadline
            else:
                rows.pop(deadline.id, None)
        return tuple(rows.values())

    def due(self, at: datetime) -> list[tuple[int, int]]:
        """The (deadline id, rung) due at ``at``, earliest first, as a sweeper claims them."""
        found = [d for d in self.ticket.deadlines if _pending(d) and d.fire_at <= at]
        found.sort(key=lambda d: (d.fire_at, d.id))
        return [(d.id, d.rung) for d in found]


def _pending(deadline: Deadline) -> bool:
    return deadline.status == "pending" and deadline.fire_at is not None

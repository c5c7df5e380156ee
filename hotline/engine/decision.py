"""What the engine decides: a frozen value the store writes in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.engine import values
from hotline.engine.ticket import Deadline, Event, Ticket


@values.frozen
class OutboxMessage:
    """A side effect for a handler, run after commit; ``key`` lets receivers drop repeats."""

    handler: str
    key: str
    payload: Mapping[str, Any]


@values.frozen
class Decision:
    """The outcome of one command: ``before`` is what was read, ``after`` what to write.

    ``deadlines`` are the deadline rows to write: new ones have no id, changed ones keep theirs.
    ``firings`` are the (deadline id, rung position, rung identity) fired; the store keeps
    (deadline, identity) unique, so that no rung can ever fire twice.
    """

    before: Ticket
    after: Ticket
    events: tuple[Event, ...]
    deadlines: tuple[Deadline, ...] = ()
    outbox: tuple[OutboxMessage, ...] = ()
    firings: tuple[tuple[int, int, str], ...] = ()
    # (field, ticket id) of every ``ticket`` field the command named: links to other tickets
    links: tuple[tuple[str, int], ...] = ()

    def then(self, later: Decision) -> Decision:
        """This decision followed by ``later`` (decided on ``self.after``), as one write."""
        changed = {d.id: d for d in self.deadlines if d.id is not None}
        changed |= {d.id: d for d in later.deadlines if d.id is not None}
        new = [d for d in (*self.deadlines, *later.deadlines) if d.id is None]
        return Decision(
            before=self.before,
            after=later.after,
            events=self.events + later.events,
            deadlines=(*changed.values(), *new),
            outbox=self.outbox + later.outbox,
            firings=self.firings + later.firings,
            links=self.links + later.links,
        )

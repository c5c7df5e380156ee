"""The store's outbox verbs: messages a decision leaves for handlers to deliver after commit.

A decision's messages are written in its own transaction (``enqueue``); the relay leases the
due ones (``claim_outbox``) and records each attempt (``outbox_done``). Batch deliveries and
the exactly-once ``fire_command`` guard are in ``delivery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import OutboxMessage
from hotline.persistence import batched, db
from hotline.persistence.rows import outbox

CLAIMED = (
    outbox.c.ticket_id,
    outbox.c.handler,
    outbox.c.key,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.next_attempt_at,
)

ENQUEUE = batched.Inserts(
    outbox,
    (
        "ticket_id",
        "handler",
        "key",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ),
)


def enqueue(
    conn: sa.Connection, messages: Sequence[tuple[int, Sequence[OutboxMessage], datetime]]
) -> None:
    """Write decisions' messages, each (ticket id, messages, now) due at once, in the
    decisions' transaction."""
    ENQUEUE.execute_many(
        conn,
        [
            {
                "ticket_id": ticket_id,
                "handler": m.handler,
                "key": m.key,
                "payload": dict(m.payload),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for ticket_id, decided, now in messages
            for m in decided
        ],
    )


class OutboxVerbs(db.Database):
    """The outbox: ``outbox``, ``claim_outbox``, ``outbox_done`` (mixed into ``SqlStore``)."""

    def outbox(self, ticket_id: int | None = None, status: str | None = None) -> list[Any]:
        query = sa.select(outbox).order_by(outbox.c.id)
        if ticket_id is not None:
            query = query.where(outbox.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.reading() as conn:
            return list(conn.execute(query))

    def claim_outbox(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Any]:
        """Lease up to ``limit`` messages whose next attempt is due, oldest first."""
        due = sa.and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        found = self.lease_rows(
            outbox, due, outbox.c.next_attempt_at, now, limit, owner, lease, CLAIMED
        )
        return sorted(found, key=lambda r: (r.next_attempt_at, r.id))

    def outbox_done(
        self,
        message_id: int,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
        owner: str | None = None,
    ) -> bool:
        """Record an attempt: delivered (no error), retried at ``retry_at``, or else dead.

        Only while the message is still pending and, given ``owner``, still claimed by it: a
        relay whose lease ran out and whose message another relay took over (and delivered)
        changes nothing. True if the attempt was recorded."""
        values = attempt(now, error, retry_at)
        with self.writing() as conn:
            done = conn.execute(
                outbox.update()
                .where(still_held(message_id, owner))
                .values(
                    attempts=outbox.c.attempts + 1, claimed_by=None, claimed_until=None, **values
                )
            )
        return done.rowcount == 1


def attempt(now: datetime, error: str | None, retry_at: datetime | None) -> dict[str, Any]:
    """What one delivery attempt sets on its message: delivered (no error), pending again
    until ``retry_at``, or else dead; every store records attempts by this rule."""
    if error is None:
        return {"status": "delivered", "delivered_at": now}
    return {
        "status": "pending" if retry_at else "dead",
        "last_error": error[:2000],
        "next_attempt_at": retry_at or now,
    }


def still_held(message_id: int, owner: str | None) -> sa.ColumnElement[bool]:
    """The message is still pending and, given ``owner``, still claimed by it."""
    held = sa.and_(outbox.c.id == message_id, outbox.c.status == "pending")
    return held if owner is None else sa.and_(held, outbox.c.claimed_by == owner)

"""Recording outbox deliveries: a batch at a time, or inside the command a message carries.

Messages are delivered at least once; receivers dedupe on ``key``. Hotline's own receiver,
the ``fire_command`` handler, dedupes in the database: the message is marked delivered in the
same transaction as the command, so a second delivery (a relay whose lease ran out while it
worked) finds it delivered and applies nothing; a command the engine refuses is parked as dead
in the same transaction as its refusal event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.outbox import still_held
from hotline.persistence.rows import outbox
from hotline.persistence.sql import Guard, SqlStore

DONE = {"status": "delivered", "claimed_by": None, "claimed_until": None}


def delivered(
    store: SqlStore, message_ids: Sequence[int], now: datetime, owner: str | None = None
) -> None:
    """Mark a batch of messages delivered at ``now`` in one transaction: those still pending
    and, given ``owner``, still claimed by it (a message another relay took over is its)."""
    if not message_ids:
        return
    held = sa.and_(outbox.c.id.in_(message_ids), outbox.c.status == "pending")
    if owner is not None:
        held = sa.and_(held, outbox.c.claimed_by == owner)
    with store.writing() as conn:
        conn.execute(
            outbox.update()
            .where(held)
            .values(attempts=outbox.c.attempts + 1, delivered_at=now, **DONE)
        )


def consume(message_id: int, now: datetime, owner: str | None = None) -> Guard:
    """A guard for ``SqlStore.update``: take the pending message (still claimed by ``owner``,
    if given) as delivered, or say no.

    On PostgreSQL a concurrent second delivery waits on the row lock, then finds the row
    delivered; on SQLite the write lock orders them the same way.
    """

    def guard(conn: sa.Connection) -> bool:
        taken = conn.execute(
            outbox.update().where(still_held(message_id, owner)).values(delivered_at=now, **DONE)
        )
        return taken.rowcount == 1

    return guard


def park(message_id: int, now: datetime, error: str, owner: str | None = None) -> Guard:
    """A guard for ``SqlStore.update``: take the pending message (still claimed by ``owner``,
    if given) as dead with ``error`` (a command the engine refused, recorded in the same
    transaction), or say no."""

    def guard(conn: sa.Connection) -> bool:
        parked = conn.execute(
            outbox.update()
            .where(still_held(message_id, owner))
            .values(
                status="dead",
                last_error=error[:2000],
                attempts=outbox.c.attempts + 1,
                claimed_by=None,
                claimed_until=None,
            )
        )
        return parked.rowcount == 1

    return guard


def revive(message_id: int, now: datetime) -> Guard:
    """A guard for ``SqlStore.update``: put the dead message back as pending, due at ``now``
    with its attempts counted afresh (an operator's requeue, recorded on its ticket in the same
    transaction), or say no when it is not dead (requeued or delivered meanwhile)."""

    def guard(conn: sa.Connection) -> bool:
        revived = conn.execute(
            outbox.update()
            .where(outbox.c.id == message_id, outbox.c.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        return revived.rowcount == 1

    return guard

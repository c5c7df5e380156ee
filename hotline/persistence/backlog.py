"""How much work waits in the shared tables: deadlines and outbox messages, by condition.

``hotline status`` prints these counts; ``hotline run --exit-when-idle`` stops when ``claimable``
is zero. Each is one aggregate query over the partial indexes on pending rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.rows import OPEN, deadlines, outbox
from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class Backlog:
    """Counts at one instant ``now``."""

    deadlines_pending: int  # running clocks
    deadlines_overdue: int  # pending and past their due time
    deadlines_due: int  # a rung to fire now (the sweepers' queue)
    deadlines_claimed: int  # leased by a replica right now
    outbox_pending: int  # not delivered yet (waiting, retrying or leased)
    outbox_due: int  # an attempt due now (the relays' queue)
    outbox_dead: int  # parked after too many failures


def _count(condition: sa.ColumnElement[bool]) -> sa.Label[int]:
    return sa.func.count().filter(condition).label("n")


def measure(store: SqlStore, now: datetime) -> Backlog:
    """Every count of ``Backlog`` at ``now``."""
    pending = deadlines.c.status == "pending"
    waiting = outbox.c.status == "pending"
    deadline_counts = sa.select(
        _count(pending),
        _count(pending & (deadlines.c.due_at < now)),
        _count(pending & (deadlines.c.fire_at <= now)),
        _count(pending & (deadlines.c.claimed_until > now)),
    ).where(deadlines.c.status.in_(OPEN))
    outbox_counts = sa.select(
        _count(waiting),
        _count(waiting & (outbox.c.next_attempt_at <= now)),
        _count(outbox.c.status == "dead"),
    ).where(outbox.c.status.in_(("pending", "dead")))
    with store.reading() as conn:
        d = conn.execute(deadline_counts).one()
        o = conn.execute(outbox_counts).one()
    return Backlog(*d, *o)


def claimable(store: SqlStore, now: datetime) -> int:
    """Deadline rungs and messages due at ``now`` that no live lease holds: work left to take.

    Rows a crashed replica had leased count again once the lease has run out.
    """
    free_d = sa.or_(deadlines.c.claimed_until.is_(None), deadlines.c.claimed_until <= now)
    free_o = sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now)
    due_d = sa.select(sa.func.count()).where(
        deadlines.c.status == "pending", deadlines.c.fire_at <= now, free_d
    )
    due_o = sa.select(sa.func.count()).where(
        outbox.c.status == "pending", outbox.c.next_attempt_at <= now, free_o
    )
    with store.reading() as conn:
        return conn.execute(due_d).scalar_one() + conn.execute(due_o).scalar_one()

"""What ``/metrics`` reads from the database at scrape time: tickets by state, the outbox backlog
and the oldest deadline rung that is due but not fired. Any replica reads the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hotline.persistence.rows import deadlines, outbox, tickets

if TYPE_CHECKING:
    from hotline.persistence.sql import SqlStore

STATUSES = ("pending", "dead")  # the outbox statuses reported as backlog


@dataclass(frozen=True)
class Gauges:
    now: datetime
    tickets_by_state: dict[str, int]
    outbox_by_status: dict[str, int]
    oldest_due: datetime | None  # the earliest rung due at ``now`` and not fired; None: none

    @property
    def sweeper_lag(self) -> float:
        """Seconds the oldest due rung has waited (0: none waiting)."""
        return (self.now - self.oldest_due).total_seconds() if self.oldest_due else 0.0


def read(store: SqlStore, now: datetime) -> Gauges:
    """The gauges at ``now``, in one reading transaction."""
    by_state = sa.select(tickets.c.state, sa.func.count()).group_by(tickets.c.state)
    oldest = sa.select(sa.func.min(deadlines.c.fire_at)).where(
        deadlines.c.status == "pending", deadlines.c.fire_at <= now
    )
    with store.reading() as conn:
        states = {state: n for state, n in conn.execute(by_state)}
        backlog = {
            status: conn.execute(
                sa.select(sa.func.count()).where(outbox.c.status == status)
            ).scalar_one()
            for status in STATUSES
        }
        return Gauges(now, states, backlog, conn.execute(oldest).scalar())

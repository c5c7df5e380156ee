"""Heartbeats of the daemons sharing one database: who runs, since when, last seen when.

Each ``hotline run`` process writes its row on an interval (``Daemon`` schedules it); ``hotline
status`` reads them. A replica killed without warning simply stops beating: its row stays, with
an old ``last_seen_at``, and the rows it had claimed are taken over when their lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import ReplicaRow

replicas = ReplicaRow.__table__


@dataclass(frozen=True)
class Replica:
    """One daemon process as its heartbeat row describes it."""

    owner: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    stopped_at: datetime | None = None


def beat(store: SqlStore, replica: Replica) -> None:
    """Record that ``replica`` is alive at ``replica.last_seen_at`` (insert or refresh)."""
    with store.writing() as conn:
        refreshed = conn.execute(
            replicas.update()
            .where(replicas.c.owner == replica.owner)
            .values(last_seen_at=replica.last_seen_at, stopped_at=None)
        )
        if refreshed.rowcount == 0:  # owner is host:pid, so no other process inserts it
            conn.execute(replicas.insert().values(**vars(replica)))


def stopped(store: SqlStore, owner: str, now: datetime) -> None:
    """A clean stop: the row stays, marked, so ``status`` tells it from a crash."""
    with store.writing() as conn:
        conn.execute(
            replicas.update()
            .where(replicas.c.owner == owner)
            .values(last_seen_at=now, stopped_at=now)
        )


def seen_since(store: SqlStore, since: datetime) -> list[Replica]:
    """Replicas whose last heartbeat is at or after ``since``, most recent first."""
    query = (
        sa.select(replicas)
        .where(replicas.c.last_seen_at >= since)
        .order_by(replicas.c.last_seen_at.desc(), replicas.c.owner)
    )
    with store.reading() as conn:
        return [Replica(**row._mapping) for row in conn.execute(query)]

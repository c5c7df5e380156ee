"""What is due: pending deadline rungs, when the next falls due, and claiming (leasing) the due
ones to a sweeper (``hotline.daemon.sweeper``). A deadline's rows are written with its ticket's
decision (``SqlStore``); its rungs are computed by ``hotline.engine.deadlines``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hotline.persistence import db
from hotline.persistence.rows import deadlines

CLAIMED = (deadlines.c.ticket_id, deadlines.c.fire_at, deadlines.c.rung)


@dataclass(frozen=True)
class Claim:
    """A due row a sweeper has leased: a deadline rung, or an outbox message."""

    id: int
    ticket_id: int | None
    due: datetime
    rung: int = 0
    owner: str | None = None  # the replica holding the lease; recorded on the firing row


def still_claimed(*claims: Claim) -> Callable[[sa.Connection], bool]:
    """A guard for ``SqlStore.update``: every claimed rung's deadline is still pending and
    still claimed by the claim's owner. A sweeper whose lease ran out and whose rung another
    sweeper took over writes nothing."""
    ids = sorted({c.id for c in claims})
    owners = {c.owner for c in claims}
    held = sa.and_(deadlines.c.id.in_(ids), deadlines.c.status == "pending")
    if None not in owners:  # a claim without an owner (a test's, a tool's) holds no lease
        held = sa.and_(held, deadlines.c.claimed_by.in_(owners))

    def guard(conn: sa.Connection) -> bool:
        query = sa.select(sa.func.count()).select_from(deadlines).where(held)
        return conn.execute(query).scalar_one() == len(ids)

    return guard


class DueVerbs(db.Database):
    """Due rungs: ``deadlines``, ``next_fire_at``, ``claim_due`` (mixed into ``SqlStore``)."""

    def deadlines(
        self,
        ticket_id: int | None = None,
        status: str | None = "pending",
        due_before: datetime | None = None,
    ) -> list[Any]:
        """Deadline rows by due time, filtered by ticket, status and due time."""
        query = sa.select(deadlines).order_by(deadlines.c.due_at, deadlines.c.id)
        if ticket_id is not None:
            query = query.where(deadlines.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(deadlines.c.status == status)
        if due_before is not None:
            query = query.where(deadlines.c.due_at < due_before)
        with self.reading() as conn:
            return list(conn.execute(query))

    def next_fire_at(self) -> datetime | None:
        """When the earliest pending rung falls due (None if nothing is pending)."""
        query = sa.select(sa.func.min(deadlines.c.fire_at)).where(deadlines.c.status == "pending")
        with self.reading() as conn:
            return conn.execute(query).scalar()  # min() keeps the column's aware-UTC type

    def claim_due(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Claim]:
        """Lease up to ``limit`` deadline rungs due at ``now`` to ``owner``, earliest first.

        A claim only stops other sweepers from taking the row until the lease ends; a sweeper
        that dies leaves its rows to be taken over then. The firing itself is made safe by the
        ticket's version, the rung check and the unique (deadline, rung) firing row.
        """
        due = sa.and_(deadlines.c.status == "pending", deadlines.c.fire_at <= now)
        found = self.lease_rows(
            deadlines, due, deadlines.c.fire_at, now, limit, owner, lease, CLAIMED
        )
        return sorted(
            (Claim(r.id, r.ticket_id, r.fire_at, r.rung, owner) for r in found),
            key=lambda c: (c.due, c.id),
        )

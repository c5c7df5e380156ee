"""Links between tickets (a repeat and its original, Art. 11), written with the command that
named them and read back both ways, so a group can be listed without scanning tickets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.persistence.rows import tickets
from hotline.persistence.tables import TicketLinkRow

if TYPE_CHECKING:  # sql.py writes links with the rest of a decision
    from hotline.persistence.sql import SqlStore

links = TicketLinkRow.__table__


@dataclass(frozen=True)
class Linked:
    """A ticket's links: the tickets it names by field, and those naming it, by field."""

    to: dict[str, int] = field(default_factory=dict)
    by: dict[str, list[int]] = field(default_factory=dict)


def write(conn: sa.Connection, decision: Decision) -> None:
    """Record the decision's links in its transaction (the foreign key is the last guard)."""
    if decision.links:
        at = decision.after.updated_at
        conn.execute(
            links.insert(),
            [
                {
                    "ticket_id": decision.before.id,
                    "field": name,
                    "target_id": target,
                    "created_at": at,
                }
                for name, target in decision.links
            ],
        )


def missing(store: SqlStore, ids: Iterable[int]) -> list[int]:
    """Those of ``ids`` that name no ticket."""
    wanted = set(ids)
    if not wanted:
        return []
    query = sa.select(tickets.c.id).where(tickets.c.id.in_(wanted))
    with store.reading() as conn:
        found = set(conn.execute(query).scalars())
    return sorted(wanted - found)


def of(store: SqlStore, ticket_id: int) -> Linked:
    """The tickets ``ticket_id`` names and the tickets naming it, each by field, oldest first."""
    named = sa.select(links.c.field, links.c.target_id).where(links.c.ticket_id == ticket_id)
    naming = (
        sa.select(links.c.field, links.c.ticket_id)
        .where(links.c.target_id == ticket_id)
        .order_by(links.c.ticket_id)
    )
    result = Linked()
    with store.reading() as conn:
        for name, target in conn.execute(named):
            result.to[name] = target
        for name, source in conn.execute(naming):
            result.by.setdefault(name, []).append(source)
    return result

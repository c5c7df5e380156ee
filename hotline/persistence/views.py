"""A ticket as a reader sees it (GET /tickets/{id}), read in one transaction: its snapshot with
the open deadlines and the contact in one row, its links both ways, and of its history only
the events its handling rounds are made of, chosen in SQL (``engine.rounds.sources``).

Five read transactions a request, one of them over the whole history, cost more than the HTTP
request around them; here each statement is compiled once per dialect (``compiled``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from hotline.engine.ticket import Event, Ticket
from hotline.errors import UnknownTicket
from hotline.persistence import MAX_ID, compiled, rows, sql
from hotline.persistence.links import Linked, links
from hotline.persistence.rows import events, tickets

CONTACT = ("contact_name", "contact_phone", "contact_address", "contact_more")
_BY_ID = tickets.c.id == sa.bindparam("b_id")
VIEW_TICKET = compiled.Statement(
    sa.select(*(tickets.c[name] for name in (*rows.TICKET_SNAPSHOT, *CONTACT))).where(_BY_ID)
)
NAMED = compiled.Statement(
    sa.select(links.c.field, links.c.target_id).where(links.c.ticket_id == sa.bindparam("b_id"))
)
NAMING = compiled.Statement(
    sa.select(links.c.field, links.c.ticket_id)
    .where(links.c.target_id == sa.bindparam("b_id"))
    .order_by(links.c.ticket_id)
)
# The payload keys and triggers of the events a round is made of (``rounds.sources``).
Sources = tuple[tuple[str, ...], tuple[str, ...]]
_ROUND_EVENTS: dict[Sources, compiled.Statement] = {}  # one a definition's sources


@dataclass(frozen=True)
class View:
    """A ticket, its complainant's contact (unmasked), its links, and the events of its
    history that make its rounds' records (oldest first)."""

    ticket: Ticket
    contact: dict[str, str | None]
    links: Linked
    round_events: tuple[Event, ...]


def read(store: sql.SqlStore, ticket_id: int, sources: Callable[[Ticket], Sources]) -> View:
    """The ticket's view in one read transaction; ``sources(ticket)`` says which events its
    rounds need. Raise UnknownTicket."""
    if not 0 < ticket_id <= MAX_ID:
        raise UnknownTicket(ticket_id)  # a bigger id overflows PostgreSQL's column
    key = {"b_id": ticket_id}
    with store.reading() as conn:
        found = VIEW_TICKET.rows(conn, key)
        if not found:
            raise UnknownTicket(ticket_id)
        deadlines = tuple(rows.deadline(d) for d in sql.LOAD_DEADLINES.rows(conn, key))
        ticket = rows.ticket(found[0], deadlines)
        linked = Linked()
        linked.to.update((r.field, r.target_id) for r in NAMED.rows(conn, key))
        for row in NAMING.rows(conn, key):
            linked.by.setdefault(row.field, []).append(row.ticket_id)
        chosen = _round_events(sources(ticket))
        history = tuple(rows.event(r) for r in chosen.rows(conn, key)) if chosen else ()
    return View(ticket, sql.contact_of(found[0]), linked, history)


def _round_events(sources: Sources) -> compiled.Statement | None:
    """The query of a ticket's events carrying one of the keys or firing one of the triggers;
    None when rounds read nothing."""
    keys, triggers = sources
    if not keys and not triggers:
        return None
    found = _ROUND_EVENTS.get(sources)
    if found is None:
        wanted = [has_key(events.c.payload, k) for k in keys]
        if triggers:
            wanted.append(events.c.trigger.in_([sa.literal(t) for t in triggers]))
        query = (
            sa.select(*rows.event_columns())
            .where(events.c.ticket_id == sa.bindparam("b_id"), sa.or_(*wanted))
            .order_by(events.c.seq)
        )
        found = _ROUND_EVENTS[sources] = compiled.Statement(query)
    return found


class has_key(FunctionElement[bool]):  # noqa: N801  (an SQL function, named as one)
    """A JSON column has ``key`` at its top level, whatever its value (JSON null included)."""

    type = sa.Boolean()
    inherit_cache = False  # ``key`` is not a clause: never share SQLAlchemy's cached SQL
    name = "has_key"

    def __init__(self, column: Any, key: str) -> None:
        self.key = key
        super().__init__(column)


@compiles(has_key, "sqlite")
def _has_key_sqlite(element: has_key, compiler: Any, **kw: Any) -> str:
    # json_type is 'null' for a JSON null and SQL NULL for a missing key.
    path = sa.literal(f'$."{element.key}"')
    column = compiler.process(element.clauses, **kw)
    return f"json_type({column}, {compiler.process(path, **kw)}) IS NOT NULL"


@compiles(has_key, "postgresql")
def _has_key_postgresql(element: has_key, compiler: Any, **kw: Any) -> str:
    # ``->`` on a json column: SQL NULL for a missing key, the JSON value 'null' for a null.
    column = compiler.process(element.clauses, **kw)
    return f"json_typeof({column} -> {compiler.process(sa.literal(element.key), **kw)}) IS NOT NULL"

"""Writing decisions: the ticket, its events, deadlines, firing rows and outbox, for one decision
or for a batch of them (the sweeper's) in the caller's transaction.

A batch runs each statement once over every decision of the batch (``executemany``), not once
per decision, and on PostgreSQL the rows after the ticket's update are sent in one pipeline
(``compiled.pipelined``): on a server a round trip costs more than the work; a batch of 100
firings went from some 700 round trips to 5, one transition from about 8 to 5. Loading a
batch's tickets is likewise two queries (``load_many``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.engine.ticket import Ticket
from hotline.errors import StaleVersion
from hotline.persistence import batched, compiled, facts, links, outbox, rows, whistles
from hotline.persistence.rows import OPEN, deadlines, events, firings, tickets

# A decision's UPDATE writes only the columns it changed (``rows.changed_values``), matched by
# the ticket's id and the version the decision was made on, skipping the JSON encoding of the
# other columns and the upkeep of their indexes: the decisions of a batch are grouped by the
# columns they changed (a sweep's firings mostly change the same few), one statement for each
# set met, a few dozen.
_UPDATES: dict[tuple[str, ...], batched.Updates] = {}
_VERSIONED = {"b_id": "id", "b_version": "version"}
INSERT_EVENT = batched.Inserts(events, rows.EVENT_FIELDS)
INSERT_DEADLINE = batched.Inserts(deadlines, ("ticket_id", *rows.DEADLINE_COLUMNS))
UPDATE_DEADLINE = batched.Updates(deadlines, rows.DEADLINE_COLUMNS, {"deadline_id": "id"})
INSERT_FIRING = batched.Inserts(
    firings, ("deadline_id", "rung", "rung_key", "fired_at", "fired_by")
)
# A batch's tickets and their open deadlines (``load_many``): run through SQLAlchemy, since the
# list of ids varies; once a batch, not once a ticket.
DEADLINE = rows.DEADLINE_FIELDS
_IDS = sa.bindparam("b_ids", expanding=True)
SNAPSHOTS = sa.select(*(tickets.c[name] for name in rows.TICKET_SNAPSHOT)).where(
    tickets.c.id.in_(_IDS)
)
OPEN_DEADLINES = (
    sa.select(
        deadlines.c.id, deadlines.c.ticket_id, *(deadlines.c[n] for n in rows.DEADLINE_FIELDS)
    )
    .where(deadlines.c.ticket_id.in_(_IDS), deadlines.c.status.in_(OPEN))
    .order_by(deadlines.c.id)
)


def load_many(conn: sa.Connection, ids: Iterable[int]) -> dict[int, Ticket]:
    """The snapshots of ``ids`` with their open deadlines, by id (missing ids left out)."""
    wanted = {"b_ids": sorted(set(ids))}
    found: dict[int, list[Any]] = {}
    for row in conn.execute(OPEN_DEADLINES, wanted):
        found.setdefault(row.ticket_id, []).append(rows.deadline(row))
    return {
        row.id: rows.ticket(row, tuple(found.get(row.id, ())))
        for row in conn.execute(SNAPSHOTS, wanted)
    }


def apply(
    conn: sa.Connection,
    decisions: Sequence[Decision],
    readings: facts.Readings,
    fired_by: str | None = None,
) -> None:
    """Write ``decisions`` (of distinct tickets); raise StaleVersion, writing nothing more, if
    a ticket's version is no longer the one its decision was made on. ``readings``: how each
    definition version reads a history, for the tickets' assessment facts."""
    if not decisions:
        return
    _update_tickets(conn, decisions)  # its count is checked before anything else is sent
    with compiled.pipelined(conn):
        _write_rows(conn, decisions, fired_by)
        folding = facts.send(conn, decisions, readings)
    for decision in decisions:  # they read what was written: outside the pipeline
        whistles.write(conn, decision)
        links.write(conn, decision)
    facts.finish(conn, folding)  # last: it locks the daily sums, shared with other writers


def _write_rows(conn: sa.Connection, decisions: Sequence[Decision], fired_by: str | None) -> None:
    """The rows a decision adds: events, deadlines, firing rows, outbox messages."""
    INSERT_EVENT.execute_many(conn, [rows.event_values(e) for d in decisions for e in d.events])
    _write_deadlines(conn, decisions)
    fired = [
        {"deadline_id": deadline, "rung": rung, "rung_key": key}
        | {"fired_at": d.after.updated_at, "fired_by": fired_by}
        for d in decisions
        for deadline, rung, key in d.firings
    ]
    if fired:
        INSERT_FIRING.execute_many(conn, fired)
    if any(d.outbox for d in decisions):
        outbox.enqueue(conn, [(d.before.id, d.outbox, d.after.updated_at) for d in decisions])


def _update_tickets(conn: sa.Connection, decisions: Sequence[Decision]) -> None:
    if _update(conn, decisions) == len(decisions):
        return
    ids = [d.before.id for d in decisions]
    query = sa.select(tickets.c.id, tickets.c.version).where(tickets.c.id.in_(ids))
    actual = {row.id: row.version for row in conn.execute(query)}
    stale = next(d.before for d in decisions if actual.get(d.before.id) != d.before.version)
    raise StaleVersion(stale.id, stale.version, actual.get(stale.id))


def _update(conn: sa.Connection, decisions: Sequence[Decision]) -> int:
    """One UPDATE (batched) for each set of columns the decisions changed; rows matched."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for d in decisions:
        changed = rows.changed_values(d.before, d.after)
        versioned = changed | {"b_id": d.before.id, "b_version": d.before.version}
        groups.setdefault(tuple(changed), []).append(versioned)
    updated = 0
    for columns, values in groups.items():
        update = _UPDATES.get(columns)
        if update is None:
            update = _UPDATES[columns] = batched.Updates(tickets, columns, _VERSIONED)
        updated += update.execute_many(conn, values)
    return updated


def _write_deadlines(conn: sa.Connection, decisions: Sequence[Decision]) -> None:
    new, changed = [], []
    for decision in decisions:
        for d in decision.deadlines:
            if d.id is None:
                new.append(rows.deadline_values(d) | {"ticket_id": decision.before.id})
            else:
                changed.append(rows.deadline_values(d) | {"deadline_id": d.id})
    if new:
        INSERT_DEADLINE.execute_many(conn, new)
    if changed:
        UPDATE_DEADLINE.execute_many(conn, changed)

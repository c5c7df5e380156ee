"""PostgreSQL fixtures for the deadline benches: databases made and dropped on the server,
copied from a template, and a sample of real tickets multiplied with set-based SQL.

Multiplying: a sample driven through the real Service is copied ``k`` times in the database
(tickets with shifted ids, their events and their deadlines), so each copy has the sample's
shape, its units, states and deadline ladders. Due times are spread (``spread``) so copies are
not one idle row repeated. The copies' hashes are the sample's (the chains do not verify: a
fixture, not a history).
"""

from __future__ import annotations

import copies
import sqlalchemy as sa

from hotline.persistence import db
from hotline.persistence.rows import deadlines, events, tickets
from hotline.persistence.sql import SqlStore
from hotline.service import Service

SHIFTED = {
    "tickets": {"id": "t.id + copies.n * :base", "idempotency_key": "NULL"},
    "events": {"ticket_id": "t.ticket_id + copies.n * :base"},
    "deadlines": {"ticket_id": "t.ticket_id + copies.n * :base"},
}


OPEN_TICKETS = "SELECT ticket_id FROM deadlines WHERE status = 'pending'"


def admin(server: str) -> sa.Engine:
    return sa.create_engine(db.normalise(server), isolation_level="AUTOCOMMIT")


def create(server: str, name: str, template: str | None = None) -> str:
    """A new database ``name`` on the server (a copy of ``template`` if given); its URL."""
    engine = admin(server)
    with engine.connect() as conn:
        copied = f' TEMPLATE "{template}"' if template else ""
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copied}')
    engine.dispose()
    url = sa.make_url(db.normalise(server)).set(database=name)
    return url.render_as_string(hide_password=False)


def drop(server: str, *names: str) -> None:
    engine = admin(server)
    with engine.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def migrated(server: str, name: str) -> str:
    url = create(server, name)
    store = SqlStore(url)
    store.migrate()
    Service(store).install_shipped()
    store.close()
    return url


def multiply(
    store: SqlStore, target: int, spread_seconds: float = 0.0, open_only: bool = False
) -> None:
    """Copy the sample's tickets, events and deadlines until the ids reach ``target``; each
    copy's due times move by up to ``spread_seconds`` (evenly over the copies). ``open_only``:
    copy only the tickets with a pending deadline (the ids of the others are left unused)."""
    with store.reading() as conn:
        base = conn.execute(sa.select(sa.func.max(tickets.c.id))).scalar_one()
    k = max(0, -(-target // base) - 1)
    if k == 0:
        return
    shift = f"make_interval(secs => copies.n * {spread_seconds / k})"
    moved = {"due_at": f"t.due_at + {shift}", "fire_at": f"t.fire_at + {shift}"}
    with store.writing() as conn:
        for table, key in ((tickets, "id"), (events, "ticket_id"), (deadlines, "ticket_id")):
            given = SHIFTED[table.name] | (moved if table is deadlines else {})
            only = f"t.{key} IN ({OPEN_TICKETS})" if open_only else "TRUE"
            copies.copy(conn, table, key, base, target, given, only)
        conn.exec_driver_sql("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
    copies.analyse(store)

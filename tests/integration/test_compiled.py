"""The hot path's precompiled statements write and read what SQLAlchemy Core would."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.engine.ticket import Ticket
from hotline.persistence import compiled, rows
from hotline.persistence.rows import tickets


def test_the_ticket_update_names_every_column_a_decision_rewrites():
    ticket = Ticket(id=1, definition="d", definition_version=1, state="s", category="c")

    assert set(rows.ticket_values(ticket)) == set(rows.TICKET_COLUMNS)


def test_a_compiled_statement_round_trips_aware_times_and_json(service, store, new_ticket):
    ticket = new_ticket()
    load = compiled.Statement(sa.select(tickets).where(tickets.c.id == sa.bindparam("b_id")))

    with store.reading() as conn:
        row = load.rows(conn, {"b_id": ticket.id})[0]
        core = conn.execute(sa.select(tickets).where(tickets.c.id == ticket.id)).one()

    assert row._asdict() == core._asdict()
    assert row.created_at.tzinfo is not None and row.co_units == []


def test_a_failing_compiled_statement_raises_sqlalchemys_error(store, service, new_ticket):
    ticket = new_ticket()
    first = service.history(ticket.id)[0]
    insert = compiled.Statement(sa.insert(rows.events), rows.EVENT_FIELDS)

    with pytest.raises(sa.exc.IntegrityError), store.writing() as conn:
        insert.execute(conn, rows.event_values(first))  # unique (ticket_id, seq)

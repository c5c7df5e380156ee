"""The hot path's precompiled statements write and read what SQLAlchemy Core would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hotline.engine import values
from hotline.engine.ticket import Ticket
from hotline.engine.whistle import Whistle
from hotline.persistence import compiled, rows
from hotline.persistence.rows import tickets


def test_a_ticket_update_names_each_column_a_decision_changed_and_no_other():
    when = datetime(2026, 3, 2, tzinfo=UTC)
    ticket = Ticket(id=1, definition="d", definition_version=1, state="s", category="c")
    others = {
        "definition_version": 2, "state": "t", "version": 1, "round": 2, "category": "k",
        "urgency": "urgent", "lead_unit": "u", "co_units": ("x",), "excluded": True,
        "fields": {"a": 1}, "seq": 1, "head_hash": "h", "updated_at": when,
        "whistle": Whistle(no=1, whistler="u", reason="r", opened_at=when, participants=()),
    }  # fmt: skip

    assert set(others) == set(rows.TICKET_COLUMNS)
    for column, value in others.items():
        changed = rows.changed_values(ticket, values.evolve(ticket, **{column: value}))
        assert list(changed) == [column]


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

"""A database written before this release's migrations upgrades in place and keeps working."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from hotline.daemon.sweeper import Sweeper
from hotline.engine.history import broken_links
from hotline.persistence import migrations
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

BASELINE = "0001"
TABLES = ("definitions", "tickets", "events", "deadlines", "outbox")


@pytest.fixture(params=["sqlite", "postgres"])
def baseline_url(request, tmp_path):
    """An empty database of each kind, to be brought to the baseline schema by the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("empty_database")


def written_at_baseline(
    url: str, tmp_path, clock, revision: str = BASELINE, tables=TABLES, then=lambda s, t: None
) -> int:
    """A dispatched ticket, as the baseline release wrote it: the rows of a current database,
    copied column by column into the tables of revision 0001. Returns the ticket's id.

    ``revision``, ``tables`` and ``then(service, ticket)`` (run after the dispatch) write it
    as another release would have."""
    source = SqlStore(f"sqlite:///{tmp_path / 'source.db'}")
    source.migrate()
    service = Service(source, clock)
    service.install_shipped()
    ticket = service.submit(Intake("water-supply", "no water", contact_phone="13812345678"))
    service.fire(ticket.id, "dispatch", {"lead_unit": "water-group", "route": "direct"})
    then(service, ticket)
    old = sa.create_engine(url)
    migrations.upgrade(old, revision)
    baseline = sa.MetaData()
    baseline.reflect(old)
    with source.engine.connect() as read, old.begin() as write:
        for name in tables:
            model, columns = SQLModel.metadata.tables[name], baseline.tables[name].c
            rows = read.execute(sa.select(model)).mappings()  # typed by the model's columns
            # Insert through the model's types, but only the baseline's columns (a later
            # column's default must not be written into a table that lacks it).
            kept = [sa.Column(c.name, c.type) for c in model.c if c.name in columns]
            table = sa.Table(name, sa.MetaData(), *kept)
            write.execute(
                table.insert(), [{k: v for k, v in r.items() if k in columns} for r in rows]
            )
            if old.dialect.name == "postgresql":  # ids were given: move the sequence past them
                write.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                )
    old.dispose()
    source.close()
    return ticket.id


def test_a_baseline_database_upgrades_to_head_and_its_tickets_carry_on(
    baseline_url, tmp_path, clock
):
    # Given a database at the baseline revision holding a dispatched ticket
    ticket_id = written_at_baseline(baseline_url, tmp_path, clock)

    # When `hotline init` upgrades it
    store = SqlStore(baseline_url)
    store.migrate()
    service = Service(store, clock)

    # Then the ticket carries on under the new code, its chain intact, its history append-only
    service.fire(ticket_id, "respond", {"method": "phone"})
    ticket = service.fire(ticket_id, "reply", {"opinion": "valve replaced"})
    assert (ticket.state, ticket.version) == ("handled", 4)
    assert store.contact(ticket_id)["phone"] == "13812345678"
    assert broken_links(service.history(ticket_id)) == []
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.writing() as conn:
        conn.exec_driver_sql("DELETE FROM events")
    store.close()


def test_firings_written_before_rung_identity_upgrade_and_the_ladder_carries_on(
    baseline_url, tmp_path, clock
):
    # Given a database at revision 0006 whose utility ticket was already reminded
    def reminded(service, ticket):
        clock.advance(timedelta(hours=20))
        Sweeper(service, owner="old").sweep()

    tables = (*TABLES, "deadline_firings")
    ticket_id = written_at_baseline(baseline_url, tmp_path, clock, "0006", tables, reminded)

    # When `hotline init` upgrades it and the daemon sweeps once the ticket is overdue
    store = SqlStore(baseline_url)
    store.migrate()
    service = Service(store, clock)
    clock.advance(timedelta(hours=5))
    Sweeper(service, owner="new").sweep()

    # Then the old firing keeps its position as identity, and the ladder goes on from it
    with store.engine.connect() as conn:
        keys = conn.exec_driver_sql(
            "SELECT f.rung_key FROM deadline_firings f JOIN deadlines d ON d.id = f.deadline_id"
            " WHERE d.kind = 'handling' ORDER BY f.id"
        )
        assert [k for (k,) in keys] == ["#0", "due", "escalate-1"]
    fired = [
        e.trigger for e in service.history(ticket_id) if e.payload.get("deadline") == "handling"
    ]
    assert fired == ["remind", "overdue", "escalate"]
    store.close()


def test_the_migrations_build_the_schema_the_tables_declare(store):
    # Given a database brought to head by the migrations alone (as `hotline init` does)
    # Then it holds every table, column, index and constraint the models declare: an index
    # added to a model without its migration would exist in no deployed database
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []

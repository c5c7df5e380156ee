"""A PostgreSQL connection lost in the middle of a request (the server restarted, the network
dropped) is a 503 problem that says what happened, never a 500; the next request reconnects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.persistence.sql import SqlStore


@pytest.fixture
def store(pg_url):
    store = SqlStore(pg_url)
    yield store
    store.close()


def cut_the_connection_at_the_next_ticket_read(store: SqlStore, pg_url: str) -> None:
    """The server ends this connection's session just before it reads a ticket, once."""
    admin = sa.create_engine(pg_url)
    armed = [True]

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def cut(conn, cursor, statement, parameters, context, executemany):
        if armed and statement.lstrip().startswith("SELECT") and "FROM tickets" in statement:
            armed.clear()
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            admin.dispose()


def test_a_connection_lost_mid_request_is_a_503_and_the_next_request_reconnects(
    client, auth, new_ticket, store, pg_url
):
    ticket = new_ticket()
    cut_the_connection_at_the_next_ticket_read(store, pg_url)

    lost = client.get(f"/api/v1/tickets/{ticket.id}", headers=auth["operator"])
    again = client.get(f"/api/v1/tickets/{ticket.id}", headers=auth["operator"])

    assert lost.status_code == 503, lost.text
    assert lost.json()["type"].endswith("database-unavailable")
    assert "lost the connection to the database" in lost.json()["detail"]
    assert lost.headers["retry-after"] == "5"
    assert again.status_code == 200 and again.json()["id"] == ticket.id

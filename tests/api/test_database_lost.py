"""A PostgreSQL connection lost in the middle of a request (the server restarted, the network
dropped) is a 503 problem that says what happened, never a 500; the next request reconnects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.persistence.sql import SqlStore

pytestmark = pytest.mark.parametrize("store", ["postgres"], indirect=True)


def cut_the_connection_before(store: SqlStore, pg_url: str, statement_start: str) -> None:
    """The server ends this connection's session just before a statement starting with
    ``statement_start`` runs, once (the engine's cursor hook: the hot statements call it too)."""
    admin = sa.create_engine(pg_url)
    armed = [True]

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def cut(conn, cursor, statement, parameters, context, executemany):
        if armed and statement.lstrip().startswith(statement_start):
            armed.clear()
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            admin.dispose()


def assert_lost(answer) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["type"].endswith("database-unavailable")
    assert "lost the connection to the database" in answer.json()["detail"]
    assert answer.headers["retry-after"] == "5"


def test_a_read_that_loses_its_connection_is_a_503_and_the_next_reconnects(
    client, auth, new_ticket, store, pg_url
):
    ticket = new_ticket()
    cut_the_connection_before(store, pg_url, "SELECT tickets.")

    lost = client.get(f"/api/v1/tickets/{ticket.id}", headers=auth["operator"])
    again = client.get(f"/api/v1/tickets/{ticket.id}", headers=auth["operator"])

    assert_lost(lost)
    assert again.status_code == 200 and again.json()["id"] == ticket.id


def test_a_command_that_loses_its_connection_writes_nothing_and_may_be_sent_again(
    client, auth, new_ticket, dispatch, store, pg_url, service
):
    ticket = new_ticket()
    cut_the_connection_before(store, pg_url, "UPDATE tickets")
    headers = auth["operator"] | {"If-Match": f'"{ticket.version}"'}
    url = f"/api/v1/tickets/{ticket.id}/transitions/dispatch"

    lost = client.post(url, json={"fields": dispatch}, headers=headers)
    unchanged = service.get(ticket.id)
    again = client.post(url, json={"fields": dispatch}, headers=headers)

    assert_lost(lost)
    assert unchanged.version == ticket.version and unchanged.state == ticket.state
    assert again.status_code == 200, again.text
    assert [e.trigger for e in service.history(ticket.id)].count("dispatch") == 1

"""A command that cannot get the database in time is a 503 problem, and nothing is written."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from hotline import errors
from hotline.persistence.sql import SqlStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An SQLite store whose writers wait at most 200 ms for another writer's lock."""
    monkeypatch.setenv("HOTLINE_SQLITE_BUSY_TIMEOUT", "200ms")
    store = SqlStore(f"sqlite:///{tmp_path / 'hotline.db'}")
    store.migrate()
    yield store
    store.close()


def test_a_command_held_up_by_another_writer_is_a_503_problem(
    client, auth, new_ticket, dispatch, store, service, tmp_path
):
    # Given a ticket, and another process holding the database's write lock
    ticket = new_ticket()
    other = sqlite3.connect(tmp_path / "hotline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    # When a command arrives
    def send():
        return client.post(
            f"/api/v1/tickets/{ticket.id}/transitions/dispatch",
            json={"fields": dispatch},
            headers=auth["operator"] | {"If-Match": f'"{ticket.version}"'},
        )

    try:
        response = send()
    finally:
        other.rollback()
        other.close()

    # Then it is refused as busy, to be retried, and nothing was written
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    body = response.json()
    assert body["type"] == "urn:hotline:problem:database-busy"
    assert "HOTLINE_SQLITE_BUSY_TIMEOUT" in body["detail"]
    assert service.get(ticket.id).version == ticket.version
    assert send().status_code == 200  # the same command, once the lock is gone


def test_a_writer_waiting_on_a_writer_of_its_own_process_gives_up_as_busy(store):
    # Given a write in progress in one thread (this process's writers take turns in-process)
    inside, done = threading.Event(), threading.Event()

    def hold() -> None:
        with store.writing():
            inside.set()
            done.wait(timeout=30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(timeout=30)
        # When another thread writes, Then it gives up after the busy timeout, as busy
        with pytest.raises(errors.Busy, match="HOTLINE_SQLITE_BUSY_TIMEOUT"), store.writing():
            pass
    finally:
        done.set()
        holder.join()
    with store.writing():  # and the next writer goes in once the first is done
        pass

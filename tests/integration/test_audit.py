"""Tamper-evident history: the database refuses edits, and verify names every kind of tampering.

Each tampering is done as a database administrator could: the append-only trigger is dropped
or disabled first, then raw SQL edits the events table.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline.admin import audit
from hotline.daemon.scheduler import Sweeper
from hotline.engine.replay import ReplayMismatch
from hotline.persistence.rows import events

DISPATCH = ("dispatch", {"lead_unit": "street-jianwai", "route": "direct"})
H = timedelta(hours=1)
REPLY = ("reply", {"opinion": "done"})


@contextmanager
def trigger_off(store):
    """What a DBA with full rights does before rewriting history."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER events_no_update")
            conn.exec_driver_sql("DROP TRIGGER events_no_delete")
    try:
        with store.engine.begin() as conn:
            yield conn
    finally:
        if store.engine.dialect.name == "postgresql":  # the database outlives this test
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER events_append_only")


def sql(conn, statement, **params):
    return conn.execute(sa.text(statement), params)


@pytest.fixture
def tickets(new_ticket):
    """Three tickets of four events each; the middle one is the victim."""
    return [new_ticket(steps=[DISPATCH, ("respond", {}), REPLY]) for _ in range(3)]


def test_the_events_table_refuses_ordinary_update_and_delete(store, tickets):
    for statement in ("UPDATE events SET actor = 'someone else'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
            sql(c, statement)
    with store.engine.connect() as conn:
        assert sql(conn, "SELECT count(*) FROM events").scalar() == 12


def edit_payload(conn, victim):
    sql(
        conn,
        "UPDATE events SET payload = :p WHERE ticket_id = :t AND seq = 4",
        p=json.dumps({"opinion": "never done"}),
        t=victim,
    )


def delete_event(conn, victim):
    sql(conn, "DELETE FROM events WHERE ticket_id = :t AND seq = 2", t=victim)


def reorder_events(conn, victim):
    # Swap seq 2 and 3 through a free number, as the (ticket, seq) pair is unique.
    for old, new in ((2, 99), (3, 2), (99, 3)):
        sql(
            conn,
            "UPDATE events SET seq = :n WHERE ticket_id = :t AND seq = :o",
            n=new,
            o=old,
            t=victim,
        )


def insert_event(conn, victim):
    for old, new in ((4, 5), (3, 4)):
        sql(
            conn,
            "UPDATE events SET seq = :n WHERE ticket_id = :t AND seq = :o",
            n=new,
            o=old,
            t=victim,
        )
    sql(
        conn,
        "INSERT INTO events (ticket_id, seq, trigger, from_state, to_state, actor, payload,"
        " occurred_at, prev_hash, hash) SELECT ticket_id, 3, 'extend', to_state, to_state,"
        " 'forger', payload, occurred_at, hash, hash FROM events WHERE ticket_id = :t AND seq = 2",
        t=victim,
    )


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (edit_payload, "event 4 content does not match its hash"),
        (delete_event, "event seq 3 where 2 was expected"),
        (reorder_events, "event 2 does not follow the hash of the one before"),
        (insert_event, "event 3 content does not match its hash"),
    ],
    ids=["edited", "deleted", "reordered", "inserted"],
)
def test_each_kind_of_tampering_is_detected_and_named(service, store, tickets, tamper, named):
    # Given a clean history, verified
    assert audit.verify(service).ok
    victim = tickets[1].id

    # When a DBA rewrites one ticket's events with raw SQL
    with trigger_off(store) as conn:
        tamper(conn, victim)

    # Then verify names that ticket and that event, and only that ticket
    report = audit.verify(service)
    assert report.checked == 3
    assert f"ticket {victim}: {named}" in report.problems
    assert all(p.startswith(f"ticket {victim}:") for p in report.problems)
    assert not audit.verify(service, ticket_id=tickets[0].id).problems


def test_deleting_the_last_events_is_caught_by_the_ticket_head(service, store, tickets):
    victim = tickets[0].id
    with trigger_off(store) as conn:
        sql(conn, "DELETE FROM events WHERE ticket_id = :t AND seq >= 3", t=victim)

    report = audit.verify(service, ticket_id=victim)

    assert report.problems == [
        f"ticket {victim}: the chain ends at event 2, but the ticket's head is event 4"
    ]


def test_a_ticket_deleted_whole_after_the_seal_is_named(service, store, tickets, tmp_path):
    # Given a seal of every chain head, also written outside the database
    seal_file = tmp_path / "seal.json"
    sealed = audit.seal(service, seal_file)
    assert sealed.tickets == 3 and json.loads(seal_file.read_text())["digest"] == sealed.digest
    victim = tickets[2].id

    # When a DBA deletes a whole ticket, its rows everywhere, consistently
    with trigger_off(store) as conn:
        sql(conn, "DELETE FROM outbox WHERE ticket_id = :t", t=victim)
        sql(
            conn,
            "DELETE FROM deadline_firings WHERE deadline_id IN"
            " (SELECT id FROM deadlines WHERE ticket_id = :t)",
            t=victim,
        )
        sql(conn, "DELETE FROM deadlines WHERE ticket_id = :t", t=victim)
        sql(conn, "DELETE FROM events WHERE ticket_id = :t", t=victim)
        sql(conn, "DELETE FROM tickets WHERE id = :t", t=victim)

    # Then every remaining chain is intact, but the seal names the missing ticket
    report = audit.verify(service, seal_file=seal_file)
    assert report.checked == 2
    assert report.problems == [f"ticket {victim}: existed at the seal of {sealed.day} and is gone"]


def test_a_rewritten_seal_in_the_database_differs_from_the_file(service, store, tickets, tmp_path):
    seal_file = tmp_path / "seal.json"
    audit.seal(service, seal_file)
    with store.engine.begin() as conn:
        sql(conn, "UPDATE seals SET digest = 'forged'")

    report = audit.verify(service, seal_file=seal_file)

    assert f"the database's latest seal is not the one in {seal_file}" in report.problems


def test_a_tampered_history_is_refused_by_the_point_in_time_rebuild(service, store, tickets):
    victim = tickets[0].id
    with trigger_off(store) as conn:
        edit_payload(conn, victim)

    with pytest.raises(
        ReplayMismatch, match=f"ticket {victim}: history does not replay at event 4"
    ):
        audit.as_of(service, victim, None)


# `history --at` checks links, contents and the ticket's head before it replays (issue 16).


@pytest.fixture
def overdue(service, new_ticket, clock):
    """A utility ticket whose deadline fired (an `overdue` event) after dispatch."""
    ticket = new_ticket(
        "water-supply", steps=[("dispatch", {"lead_unit": "water-group", "route": "direct"})]
    )
    clock.advance(25 * H)
    Sweeper(service, owner="test").sweep()
    fired = [e for e in service.history(ticket.id) if "deadline" in e.payload]
    assert fired
    return ticket, fired[0]


def test_an_edited_deadline_event_payload_is_refused(service, store, clock, overdue):
    ticket, fired = overdue
    edited = {**fired.payload, "overdue_minutes": 0}
    with trigger_off(store) as conn:
        conn.execute(
            events.update()
            .where(events.c.ticket_id == ticket.id, events.c.seq == fired.seq)
            .values(payload=edited)
        )
    with pytest.raises(audit.HistoryTampered, match=f"at event {fired.seq} .*content"):
        audit.as_of(service, ticket.id, clock.now())


def test_a_deleted_last_event_is_refused(service, store, clock, overdue):
    ticket, _ = overdue
    last = service.history(ticket.id)[-1]
    with trigger_off(store) as conn:
        conn.execute(
            events.delete().where(events.c.ticket_id == ticket.id, events.c.seq == last.seq)
        )
    with pytest.raises(audit.HistoryTampered, match="ticket's head"):
        audit.as_of(service, ticket.id, clock.now() - 30 * H)


def test_an_untouched_history_still_rebuilds(service, clock, overdue):
    ticket, _ = overdue
    assert audit.as_of(service, ticket.id, clock.now()).state == service.get(ticket.id).state


def test_the_cli_refuses_a_tampered_history(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hotline.cli.main import app
    from hotline.persistence.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    runner = CliRunner()
    runner.invoke(app, ["init"])
    runner.invoke(app, ["submit", "--category", "noise"])
    runner.invoke(app, ["fire", "1", "answer", "--set", "answer=told them"])
    store = SqlStore(url)
    with trigger_off(store) as conn:
        conn.execute(events.delete().where(events.c.seq == 2))
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 1
    store.close()
    result = runner.invoke(app, ["history", "1", "--at", "2099-01-01T00:00:00Z"])
    assert result.exit_code == 1 and "does not replay at event 2" in result.stderr

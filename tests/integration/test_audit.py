"""Tamper-evident history: the database refuses edits, and verify names every kind of tampering.

Each tampering is done as a database administrator could: the append-only trigger is dropped
or disabled first, then raw SQL edits the events table.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from hotline.admin import audit
from hotline.daemon.sweeper import Sweeper
from hotline.engine import history as chain
from hotline.engine.replay import ReplayMismatch
from hotline.persistence import history, migrations
from hotline.persistence.db import normalise
from hotline.persistence.rows import events
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

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
        sql(conn, "DELETE FROM ticket_facts WHERE ticket_id = :t", t=victim)
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


# -- Merkle seals: the file holds a root; one ticket is proved, all recompute it ----------------


def as_utc(value):
    """A time as read with raw SQL (SQLite gives naive text) as the aware UTC the hash used."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rewrite_consistently(conn, victim):
    """The forger's best: change event 4 and recompute its hash and the ticket's head, so the
    chain itself verifies again."""
    row = sql(conn, "SELECT * FROM events WHERE ticket_id = :t AND seq = 4", t=victim).one()
    forged = chain.seal(
        victim,
        4,
        row.prev_hash,
        row.trigger,
        row.from_state,
        row.to_state,
        row.actor,
        {"opinion": "never done"},
        as_utc(row.occurred_at),
    )
    sql(
        conn,
        "UPDATE events SET payload = :p, hash = :h WHERE ticket_id = :t AND seq = 4",
        p=json.dumps(forged.payload),
        h=forged.hash,
        t=victim,
    )
    sql(conn, "UPDATE tickets SET head_hash = :h WHERE id = :t", h=forged.hash, t=victim)
    return forged.hash


def test_the_seal_file_holds_a_root_and_stays_the_same_size(service, new_ticket, tmp_path):
    # Given a first seal, one over a few tickets, then one over ten times as many
    audit.seal(service)
    for _ in range(3):
        new_ticket(steps=[DISPATCH])
    small = audit.seal(service, tmp_path / "small.json")
    for _ in range(27):
        new_ticket(steps=[DISPATCH])
    large = audit.seal(service, tmp_path / "large.json")

    # Then each file holds the root, the count, the time and the previous seal: no heads
    data = json.loads((tmp_path / "large.json").read_text())
    assert set(data) == {"format", "day", "sealed_at", "tickets", "root", "previous", "digest"}
    assert (data["tickets"], data["root"], data["previous"]) == (30, large.root, small.digest)
    sizes = {(tmp_path / name).stat().st_size for name in ("small.json", "large.json")}
    assert max(sizes) - min(sizes) <= 1  # the count's digits
    assert audit.verify(service, seal_file=tmp_path / "large.json").ok


def test_one_ticket_verifies_by_its_proof_against_the_seal_file(service, tickets, tmp_path):
    seal_file = tmp_path / "seal.json"
    audit.seal(service, seal_file)
    for ticket in tickets:
        report = audit.verify(service, ticket_id=ticket.id, seal_file=seal_file)
        assert (report.ok, report.checked) == (True, 1)


def test_a_chain_rewritten_consistently_is_caught_only_by_the_seal(
    service, store, tickets, tmp_path
):
    # Given a seal written outside the database
    seal_file = tmp_path / "seal.json"
    sealed = audit.seal(service, seal_file)
    victim = tickets[1].id

    # When a DBA rewrites an event and recomputes every hash after it
    with trigger_off(store) as conn:
        rewrite_consistently(conn, victim)

    # Then the chain alone verifies, but not against the seal: one ticket or all
    assert audit.verify(service, ticket_id=victim).ok is False  # the latest seal is in the db too
    named = f"ticket {victim}: event 4 is not the one sealed on {sealed.day}"
    assert audit.verify(service, ticket_id=victim, seal_file=seal_file).problems == [named]
    assert audit.verify(service, seal_file=seal_file).problems == [named]


def test_a_chain_and_its_leaf_rewritten_together_miss_the_root(service, store, tickets, tmp_path):
    seal_file = tmp_path / "seal.json"
    sealed = audit.seal(service, seal_file)
    victim = tickets[1].id

    # When the DBA also rewrites the sealed leaf to the forged head
    with trigger_off(store) as conn:
        forged = rewrite_consistently(conn, victim)
        sql(conn, "UPDATE seal_leaves SET head = :h WHERE ticket_id = :t", h=forged, t=victim)

    # Then the root in the file gives it away
    one = audit.verify(service, ticket_id=victim, seal_file=seal_file)
    assert one.problems == [
        f"ticket {victim}: its proof does not reach the root of the seal of {sealed.day}"
        " (the seal's rows differ)"
    ]
    every = audit.verify(service, seal_file=seal_file)
    assert every.problems == [
        f"the sealed leaves in the database do not reach the root of the seal of {sealed.day}:"
        " tickets were added to, removed from or changed in them"
    ]


def test_a_ticket_added_with_history_from_before_the_seal_is_named(
    service, store, clock, new_ticket, tickets, tmp_path
):
    # Given a seal taken an hour after the tickets were written
    clock.advance(timedelta(hours=1))
    seal_file = tmp_path / "seal.json"
    sealed = audit.seal(service, seal_file)
    later = new_ticket(steps=[DISPATCH])  # an honest ticket written after the seal

    # When a ticket dated before the seal appears (written with a clock set back)
    clock.advance(timedelta(hours=-1))
    added = new_ticket(steps=[DISPATCH])

    # Then it is named, the honest later one is not
    named = (
        f"ticket {added.id}: not in the seal of {sealed.day}, though its history begins before it"
    )
    assert audit.verify(service, seal_file=seal_file).problems == [named]
    assert audit.verify(service, ticket_id=added.id, seal_file=seal_file).problems == [named]
    assert audit.verify(service, ticket_id=later.id, seal_file=seal_file).ok


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM seal_leaves WHERE pos = 2",
        "UPDATE seal_leaves SET seq = 3 WHERE pos = 0",
        "INSERT INTO seal_leaves (seal_id, pos, ticket_id, seq, head)"
        " SELECT seal_id, 3, 99, seq, head FROM seal_leaves WHERE pos = 2",
    ],
    ids=["leaf deleted", "leaf changed", "leaf added"],
)
def test_editing_the_sealed_leaves_is_caught_by_the_root(
    service, store, tickets, tmp_path, statement
):
    seal_file = tmp_path / "seal.json"
    sealed = audit.seal(service, seal_file)
    with store.engine.begin() as conn:
        sql(conn, statement)

    problems = audit.verify(service, seal_file=seal_file).problems

    assert (
        f"the sealed leaves in the database do not reach the root of the seal of {sealed.day}:"
        " tickets were added to, removed from or changed in them"
    ) in problems


def test_a_tampered_tree_node_fails_the_proofs_under_it(service, store, tickets, tmp_path):
    seal_file = tmp_path / "seal.json"
    audit.seal(service, seal_file)
    with store.engine.begin() as conn:
        sql(conn, "UPDATE seal_nodes SET hash = :h WHERE level = 1 AND pos = 0", h="0" * 64)

    # The nodes only serve proofs: a wrong one raises an alarm, it can never hide tampering
    assert not audit.verify(service, ticket_id=tickets[2].id, seal_file=seal_file).ok
    assert audit.verify(service, seal_file=seal_file).ok  # the root is recomputed from leaves


def test_a_seal_file_not_in_the_database_is_reported(service, store, tickets, tmp_path):
    seal_file = tmp_path / "seal.json"
    audit.seal(service, seal_file)
    with store.engine.begin() as conn:
        sql(conn, "DELETE FROM seal_nodes")
        sql(conn, "DELETE FROM seal_leaves")
        sql(conn, "DELETE FROM seals")

    report = audit.verify(service, ticket_id=tickets[0].id, seal_file=seal_file)

    assert report.problems == [
        f"the database's latest seal is not the one in {seal_file}",
        f"no seal in the database is the one in {seal_file}: its tree is gone",
    ]


@pytest.fixture(params=["sqlite", "postgres"])
def old_url(request, tmp_path):
    """An empty database of each kind, to be brought to revision 0006 by the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("empty_database")


def downgrade(url: str, revision: str) -> None:
    """Take the database behind ``url`` back to ``revision`` (alembic's own downgrade)."""
    engine = sa.create_engine(normalise(url))
    with engine.begin() as connection:
        cfg = migrations.config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
    engine.dispose()


def legacy_seal(service, path):
    """A seal as written before revision 0010: every ticket's head, in the row and the file."""
    now = service.clock.now()
    heads = {str(h.ticket_id): [h.seq, h.hash] for h in history.heads(service.store)}
    ordered = sorted((int(k), v[0], v[1]) for k, v in heads.items())
    sealed = history.Seal(
        now.date().isoformat(), now, len(heads), chain.heads_digest(ordered), heads
    )
    history.save_seal(service.store, sealed)
    fields = {"day": sealed.day, "tickets": sealed.tickets, "digest": sealed.digest}
    path.write_text(json.dumps(fields | {"sealed_at": now.isoformat(), "heads": heads}))
    return sealed


def test_a_seal_from_before_the_merkle_tree_still_verifies_after_init(old_url, clock, tmp_path):
    # Given tickets in a database taken back to revision 0009, and a seal of that release
    store = SqlStore(old_url)
    store.migrate()
    service = Service(store, clock)
    service.install_shipped()
    made = [service.submit(Intake("noise", "old ticket")) for _ in range(3)]
    store.close()
    downgrade(old_url, "0009")
    store = SqlStore(old_url)
    service = Service(store, clock)
    old_file = tmp_path / "old-seal.json"
    old = legacy_seal(service, old_file)

    # When `hotline init` upgrades the schema
    store.migrate()

    # Then the old seal still verifies, as legacy, and still names a ticket deleted since
    report = audit.verify(service, seal_file=old_file)
    assert report.ok and report.seal.legacy and report.checked == 3
    assert audit.verify(service, ticket_id=made[0].id, seal_file=old_file).ok
    # ... and the next seal is a Merkle seal, chained to it
    new = audit.seal(service, tmp_path / "seal.json")
    assert (new.legacy, new.previous, new.tickets) == (False, old.digest, 3)
    assert audit.verify(service, seal_file=tmp_path / "seal.json").ok
    store.close()


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

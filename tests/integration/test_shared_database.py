"""Sharing one database between replicas: leases on the outbox, exactly-once commands,
heartbeats and the backlog that `hotline status` shows (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from typer.testing import CliRunner

from hotline import handlers
from hotline.cli.main import app
from hotline.clock import SystemClock
from hotline.daemon.heartbeat import Heartbeat
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.persistence import backlog, db, replicas, rows
from hotline.persistence.tables import FiringRow
from hotline.service import Service

DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})
H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def test_messages_a_dead_relay_had_claimed_are_delivered_after_its_lease_with_their_keys(
    service, store, new_ticket, clock, monkeypatch
):
    # Given messages claimed by a relay that then died
    received = []
    monkeypatch.setitem(handlers._REGISTRY, "notify_unit", lambda m: received.append(m.key))
    tickets = [new_ticket(steps=[DISPATCH]) for _ in range(3)]
    claimed = store.claim_outbox(clock.now(), 10, "dead-replica", MINUTE)
    assert Relay(service, owner="alive").relay() == (0, 0)  # leased: not taken yet

    # When its lease runs out
    clock.advance(2 * MINUTE)
    delivered = Relay(service, owner="alive").relay()

    # Then another relay delivers each once, under the key receivers dedupe on
    assert delivered == (3, 0)
    assert sorted(received) == sorted(m.key for m in claimed)
    assert sorted(received) == sorted(f"{t.id}:2:notify_unit" for t in tickets)
    assert {m.status for m in store.outbox()} == {"delivered"}


def test_a_command_message_delivered_twice_changes_the_ticket_once(
    service, store, clock, command_message
):
    # Given an escalation's `extend` command, claimed by a slow relay whose lease ran out
    ticket, command = command_message

    # When another relay delivers it after the slow one's lease, and the slow one then does too
    Relay(service, owner="quick-relay").relay()
    late = service.fire_command(command.id, command.payload)

    # Then the command was applied once
    assert late is None
    extends = [e for e in service.history(ticket.id) if e.trigger == "extend"]
    assert [(e.actor, e.payload["reason"]) for e in extends] == [("deadline", "auto")]
    assert [m.status for m in store.outbox(ticket.id) if m.id == command.id] == ["delivered"]


def test_the_backlog_counts_pending_overdue_due_and_leased_work(service, store, new_ticket, clock):
    # Given two utility tickets past their 24 h limit, one of them leased by a sweeper
    for _ in range(2):
        new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(25 * H)
    store.claim_due(clock.now(), 1, "busy", MINUTE)

    counts = backlog.measure(store, clock.now())

    # Then: response and handling pending for each, both overdue, and their rungs due
    assert (counts.deadlines_pending, counts.deadlines_overdue) == (4, 4)
    assert (counts.deadlines_due, counts.deadlines_claimed) == (4, 1)
    assert (counts.outbox_pending, counts.outbox_due, counts.outbox_dead) == (2, 2, 0)
    assert backlog.claimable(store, clock.now()) == 3 + 2  # the leased rung is not


def test_hotline_status_shows_live_stopped_and_lost_replicas_and_the_backlog(
    store, service, new_ticket, monkeypatch
):
    # Given three replicas' heartbeats: one beating, one stopped cleanly, one silent for long
    now = SystemClock().now()
    live = Service(store)
    Heartbeat(live, "node-a:101").beat()
    stopped = Heartbeat(live, "node-b:202")
    stopped.beat()
    stopped.stop()
    replicas.beat(store, replicas.Replica("node-c:303", "node-c", 303, now - H, now - 10 * MINUTE))
    new_ticket("water-supply", steps=[DISPATCH])
    monkeypatch.setenv("COLUMNS", "200")

    # When an operator asks for the status
    result = CliRunner().invoke(app, ["status", "--db", store.url])

    # Then each replica is listed with its state, and the backlog below
    assert result.exit_code == 0, result.stderr
    lines = {
        line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "node-" in line
    }
    assert "alive" in lines["node-a:101"] and "stopped" in lines["node-b:202"]
    # Ten minutes ago when the test began (the CLI reads the real clock a little later)
    assert "lost" in lines["node-c:303"] and re.search(r" 6\d\d s ago", lines["node-c:303"])
    assert "1 replica(s) alive, 3 seen" in result.stdout
    assert "deadlines pending" in result.stdout and "outbox backlog" in result.stdout
    recent = replicas.seen_since(store, now - 5 * MINUTE)
    assert {r.owner for r in recent} == {"node-a:101", "node-b:202"}


def test_a_broken_ticket_in_a_commit_of_firings_costs_only_itself(
    service, store, new_ticket, clock
):
    # Given five overdue tickets, one of which points at a definition version that is gone
    tickets = [new_ticket("water-supply", steps=[DISPATCH]) for _ in range(5)]
    with store.engine.begin() as conn:
        conn.execute(
            rows.tickets.update()
            .where(rows.tickets.c.id == tickets[2].id)
            .values(definition_version=99)
        )
    clock.advance(20 * H)

    # When one sweeper fires them, several per commit
    fired = Sweeper(service, owner="sweeper", per_commit=10).sweep()

    # Then the four others fired (response overdue, handling reminder), the broken one did not
    assert sorted({d.after.id for d in fired}) == sorted(
        t.id for i, t in enumerate(tickets) if i != 2
    )
    assert len(fired) == 8
    with store.engine.connect() as conn:
        owners = conn.execute(sa.select(FiringRow.__table__.c.fired_by)).scalars().all()
    assert owners == ["sweeper"] * 8


def test_pool_settings_come_from_the_environment(pg_url, monkeypatch):
    # Given pool settings in the environment of a replica
    for name, value in [
        ("HOTLINE_DB_POOL_SIZE", "3"),
        ("HOTLINE_DB_MAX_OVERFLOW", "1"),
        ("HOTLINE_DB_POOL_TIMEOUT", "2"),
        ("HOTLINE_DB_POOL_RECYCLE", "60"),
    ]:
        monkeypatch.setenv(name, value)

    # When it opens the database
    engine = db.create_engine(pg_url)

    # Then its pool is sized and timed by them
    try:
        pool = engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle) == (3, 1, 2.0, 60)
    finally:
        engine.dispose()

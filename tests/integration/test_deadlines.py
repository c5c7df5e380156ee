"""Deadlines fire from rows: reminders, due times and escalation, each exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hotline import handlers
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.persistence import rows
from hotline.service import Service

DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})
H = timedelta(hours=1)


def fired(service, ticket_id):
    """(trigger, deadline, level) of the deadline events in a ticket's history."""
    return [
        (e.trigger, e.payload.get("deadline"), e.payload.get("level"))
        for e in service.history(ticket_id)
        if e.actor == "deadline"
    ]


def test_an_overdue_utility_ticket_is_reminded_then_escalated_level_by_level(
    service, new_ticket, clock
):
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    sweeper = Sweeper(service, owner="test")
    start = clock.now()

    for hours, expected in [
        (19, []),
        (19.2, [("remind", "handling", 0)]),  # 80% of 24 h
        (24, [("overdue", "handling", 0), ("escalate", "handling", 1)]),
        (35, []),
        (36, [("escalate", "handling", 2)]),  # 12 h after due: the district
        (48, [("escalate", "handling", 3)]),  # 24 h after due: city supervision (督办)
        (96, []),
    ]:
        clock.set(start + hours * H)
        before = fired(service, ticket.id)
        sweeper.sweep()
        new = [f for f in fired(service, ticket.id)[len(before) :] if f[1] == "handling"]
        assert new == expected, f"at +{hours} h"


def test_escalations_are_messages_to_the_right_level(service, store, new_ticket, clock):
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(48 * H)

    Sweeper(service, owner="test").sweep()

    handlers_told = [m.handler for m in store.outbox(ticket.id)]
    assert handlers_told.count("notify_district") == 1
    assert handlers_told.count("notify_city") == 1


def test_leaving_the_state_cancels_its_deadlines(service, store, new_ticket, clock):
    ticket = new_ticket("water-supply", steps=[DISPATCH, ("reply", {"opinion": "fixed"})])
    clock.advance(30 * H)

    Sweeper(service, owner="test").sweep()

    assert ("remind", "handling", 0) not in fired(service, ticket.id)
    statuses = {d.kind: d.status for d in store.deadlines(ticket.id, status=None)}
    assert statuses["handling"] == "met"


def test_an_early_reply_is_called_back_when_the_handling_limit_expires(
    service, store, new_ticket, clock
):
    # Art. 23: the callback follows the unit's time limit, not the reply
    ticket = new_ticket(steps=[DISPATCH])
    [handling] = [d for d in store.deadlines(ticket.id) if d.kind == "handling"]
    clock.advance(2 * H)
    service.fire(ticket.id, "reply", {"opinion": "fixed"})
    sweeper = Sweeper(service, owner="test")

    clock.set(handling.due_at - timedelta(minutes=1))
    sweeper.sweep()
    assert service.get(ticket.id).state == "handled"  # a day after the reply is not the rule

    clock.set(handling.due_at)
    sweeper.sweep()
    assert service.get(ticket.id).state == "callback"
    last = service.history(ticket.id)[-2:]
    assert [(e.trigger, e.payload.get("deadline")) for e in last] == [
        ("overdue", "callback_start"),
        ("start_callback", None),
    ]


def test_an_unanswered_ticket_is_escalated_at_expiry_and_called_back_at_once_after_a_late_reply(
    service, store, new_ticket, clock
):
    ticket = new_ticket(steps=[DISPATCH])
    [handling] = [d for d in store.deadlines(ticket.id) if d.kind == "handling"]
    sweeper = Sweeper(service, owner="test")

    # The handling limit expires with no reply: escalated, not called back
    clock.set(handling.due_at)
    sweeper.sweep()
    assert service.get(ticket.id).state == "dispatched"
    assert ("escalate", "handling", 1) in fired(service, ticket.id)

    # The late reply starts the callback at the next sweep
    clock.advance(3 * H)
    service.fire(ticket.id, "reply", {"opinion": "fixed late"})
    sweeper.sweep()
    assert service.get(ticket.id).state == "callback"


def test_the_citizen_may_ask_for_an_early_callback(service, new_ticket, clock):
    ticket = new_ticket(steps=[DISPATCH, ("reply", {"opinion": "fixed"})])
    ticket = service.fire(ticket.id, "start_callback", actor="operator")
    assert ticket.state == "callback"
    assert [d.kind for d in ticket.deadlines] == ["callback"]


def test_extension_moves_the_due_time_and_keeps_the_time_used(service, store, new_ticket, clock):
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    due = store.deadlines(ticket.id)[-1].due_at
    clock.advance(5 * H)

    service.fire(
        ticket.id,
        "extend",
        {"by": "12h", "reason": "parts", "approver": "li", "explained": "told by phone"},
    )

    [handling] = [d for d in store.deadlines(ticket.id) if d.kind == "handling"]
    assert handling.due_at == due + 12 * H


def test_pause_stops_the_working_clock_and_resume_restarts_it(service, store, new_ticket, clock):
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Monday 09:00 in Beijing
    ticket = new_ticket("noise", steps=[DISPATCH])
    [before] = [d for d in store.deadlines(ticket.id) if d.kind == "handling"]
    clock.advance(2 * H)
    service.fire(ticket.id, "pause", {"reason": "citizen abroad until Thursday"})
    assert {d.status for d in store.deadlines(ticket.id, status="paused")} == {"paused"}

    clock.advance(3 * 24 * H)  # three working days stopped
    service.fire(ticket.id, "resume")

    [after] = [d for d in store.deadlines(ticket.id) if d.kind == "handling"]
    assert after.consumed == 2 * 3600
    assert after.due_at - before.due_at == 3 * 24 * H  # same weekday, three working days later


def test_a_daemon_back_after_three_days_fires_each_overdue_deadline_once_in_due_order(
    store, another_store, clock
):
    first = Service(store, clock)
    first.install_shipped()
    from hotline.service import Intake

    made = []
    for category in ("water-supply", "public-safety-hazard", "heating"):
        ticket = first.submit(Intake(category))
        made.append(first.fire(ticket.id, *DISPATCH))
        clock.advance(H)
    clock.advance(3 * 24 * H)  # the daemon was down
    planned = {d.id: d.fire_at for d in store.deadlines()}

    restarted = Service(another_store(), clock)  # a new process on the same database
    Sweeper(restarted, owner="after-restart").sweep()
    Sweeper(restarted, owner="after-restart").sweep()

    events = [e for t in made for e in restarted.history(t.id) if e.actor == "deadline"]
    with store.engine.connect() as conn:
        written = conn.execute(sa.select(rows.events.c.payload).order_by(rows.events.c.id))
        order = list(
            dict.fromkeys(p["deadline_id"] for p in written.scalars() if p.get("deadline_id"))
        )
    assert [planned[d] for d in order] == sorted(planned[d] for d in order)  # in due order
    keys = Counter((e.payload["deadline_id"], e.trigger, e.payload["level"]) for e in events)
    assert keys and max(keys.values()) == 1
    assert all(e.occurred_at == clock.now() for e in events)
    emergency = [e for e in restarted.history(made[1].id) if e.trigger == "escalate"]
    assert [e.payload["level"] for e in emergency] == [1, 2, 3]


def test_two_sweepers_on_one_database_never_double_escalate(
    store, another_store, service, new_ticket, clock
):
    tickets = [new_ticket("water-supply", steps=[DISPATCH]) for _ in range(20)]
    clock.advance(48 * H)
    barrier = threading.Barrier(2)
    sweepers = [Sweeper(Service(another_store(), clock), f"sweeper-{n}", batch=3) for n in (1, 2)]

    def sweep(sweeper):
        barrier.wait()
        sweeper.sweep()

    threads = [threading.Thread(target=sweep, args=(sweeper,)) for sweeper in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for ticket in tickets:
        levels = [f[2] for f in fired(service, ticket.id) if f[0] == "escalate"]
        assert levels == [1, 2, 3]


def test_a_stale_claim_after_its_lease_never_fires_twice(store, service, new_ticket, clock):
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(20 * H)
    claims = store.claim_due(clock.now(), 10, "dead", timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))  # the claiming sweeper died; its lease runs out

    assert Sweeper(service, owner="alive").sweep()
    assert [service.fire_deadline(c) for c in claims] == [None] * len(claims)  # it wakes up

    assert fired(service, ticket.id) == [("overdue", "response", 0), ("remind", "handling", 0)]


def test_a_failing_handler_keeps_the_state_change_and_is_retried(
    service, store, new_ticket, clock, monkeypatch
):
    calls = []

    def flaky(message):
        calls.append(message.key)
        if len(calls) == 1:
            raise ConnectionError("unit's gateway is down")

    monkeypatch.setitem(handlers._REGISTRY, "notify_unit", flaky)
    ticket = new_ticket(steps=[DISPATCH])
    relay = Relay(service, owner="test", backoff=timedelta(seconds=5))

    assert relay.relay() == (0, 1)
    [message] = store.outbox(ticket.id)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "gateway is down" in message.last_error
    assert service.get(ticket.id).state == "dispatched"
    assert relay.relay() == (0, 0)  # not due before the backoff

    clock.advance(timedelta(seconds=5))
    assert relay.relay() == (1, 0)
    assert calls == [message.key, message.key]  # the same idempotency key both times
    assert store.outbox(ticket.id)[0].status == "delivered"


def test_a_message_that_keeps_failing_is_parked_as_dead(
    service, store, new_ticket, clock, monkeypatch
):
    def broken(message):
        raise ValueError("no such unit in the directory")

    monkeypatch.setitem(handlers._REGISTRY, "notify_unit", broken)
    new_ticket(steps=[DISPATCH])
    relay = Relay(service, owner="test", max_attempts=3, backoff=timedelta(seconds=1))

    for _ in range(3):
        relay.relay()
        clock.advance(timedelta(minutes=1))

    [dead] = store.outbox(status="dead")
    assert dead.attempts == 3 and "no such unit" in dead.last_error


def test_an_escalation_command_the_engine_refuses_is_parked_dead_at_once_in_the_history(
    service, store, clock
):
    # Given a level-3 rung that fires a trigger its ticket's state does not allow
    source = store.definition_source("beijing-12345")[1].replace(
        "{level: 3, after: 24h, notify: notify_city}",
        "{level: 3, after: 24h, notify: notify_city, "
        "command: {trigger: start_callback, fields: {to: [water-group]}}}",
    )
    service.publish(source)
    from hotline.service import Intake

    ticket = service.submit(Intake("water-supply"))
    service.fire(ticket.id, *DISPATCH)
    clock.advance(48 * H)
    Sweeper(service, owner="test").sweep()

    [command] = hearings(store, ticket.id)
    assert command.payload == {
        "ticket_id": ticket.id,
        "trigger": "start_callback",
        "fields": {"to": ["water-group"]},
    }
    # When the relay delivers it, and runs again long after any backoff
    relay = Relay(service, owner="test")
    relay.relay()
    clock.advance(H)
    assert relay.relay() == (0, 0)

    # Then it was refused once: dead with the refusal, recorded in the ticket's history
    [command] = hearings(store, ticket.id)
    assert (command.status, command.attempts) == ("dead", 1)
    assert "cannot 'start_callback'" in command.last_error
    refusals = [e for e in service.history(ticket.id) if e.trigger == "command_refused"]
    [refused] = [e for e in refusals if e.payload["trigger"] == "start_callback"]
    assert refused.actor == "deadline"
    assert refused.payload["fields"] == {"to": ["water-group"]}
    assert "cannot 'start_callback'" in refused.payload["reason"]
    assert service.get(ticket.id).state == "dispatched"


def hearings(store, ticket_id):
    return [
        m
        for m in store.outbox(ticket_id)
        if m.handler == "fire_command" and m.payload["trigger"] == "start_callback"
    ]

"""A replica whose lease ran out and whose row another replica took over changes nothing:
every state change of a claimed outbox message or deadline checks that the row is still
pending and still claimed by this owner (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline import errors, handlers
from hotline.daemon.relay import Relay
from hotline.persistence import delivery

DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})
MINUTE = timedelta(minutes=1)
H = timedelta(hours=1)


@pytest.fixture
def taken_over(service, store, new_ticket, clock, monkeypatch):
    """A message claimed by a slow relay, whose lease ran out, then delivered by another."""
    monkeypatch.setitem(handlers._REGISTRY, "notify_unit", lambda m: None)
    new_ticket(steps=[DISPATCH])
    [message] = store.claim_outbox(clock.now(), 10, "slow", MINUTE)
    clock.advance(2 * MINUTE)
    assert Relay(service, owner="quick").relay() == (1, 0)
    return message


def _status(store, message_id: int) -> str:
    return next(m.status for m in store.outbox() if m.id == message_id)


def test_a_late_failure_of_a_stale_relay_leaves_the_delivered_message_alone(
    store, clock, taken_over
):
    recorded = store.outbox_done(taken_over.id, clock.now(), "TimeoutError", clock.now(), "slow")
    assert recorded is False
    assert _status(store, taken_over.id) == "delivered"


def test_a_late_failure_without_owner_still_needs_a_pending_message(store, clock, taken_over):
    assert store.outbox_done(taken_over.id, clock.now(), "TimeoutError", clock.now()) is False
    assert _status(store, taken_over.id) == "delivered"


def test_a_stale_relay_does_not_mark_another_relays_message_delivered(
    store, clock, new_ticket, monkeypatch
):
    monkeypatch.setitem(handlers._REGISTRY, "notify_unit", lambda m: None)
    new_ticket(steps=[DISPATCH])
    [message] = store.claim_outbox(clock.now(), 10, "slow", MINUTE)
    clock.advance(2 * MINUTE)
    assert store.claim_outbox(clock.now(), 10, "quick", MINUTE)  # taken over, in flight
    delivery.delivered(store, [message.id], clock.now(), owner="slow")
    row = next(m for m in store.outbox() if m.id == message.id)
    assert (row.status, row.claimed_by, row.attempts) == ("pending", "quick", 0)


def test_a_stale_relay_neither_applies_nor_refuses_a_command_taken_over(
    service, store, clock, command_message
):
    ticket, command = command_message
    # Another relay has claimed it and is delivering it now
    assert command.id in [m.id for m in store.claim_outbox(clock.now(), 100, "quick", MINUTE)]
    before = len(service.history(ticket.id))
    assert service.fire_command(command.id, command.payload, owner="slow") is None
    assert len(service.history(ticket.id)) == before
    assert _status(store, command.id) == "pending"
    # and the owner applies it
    assert service.fire_command(command.id, command.payload, owner="quick") is not None
    assert _status(store, command.id) == "delivered"


def test_a_stale_relay_does_not_park_a_message_as_dead(service, store, clock, command_message):
    ticket, command = command_message
    store.claim_outbox(clock.now(), 100, "quick", MINUTE)
    service.fire(ticket.id, "respond", {})
    service.fire(ticket.id, "reply", {"opinion": "done"})  # the command is now refused
    history = len(service.history(ticket.id))
    # The stale relay's claim is checked before the command: no false `command_refused`
    assert service.fire_command(command.id, command.payload, owner="slow") is None
    assert _status(store, command.id) == "pending"
    assert [e.trigger for e in service.history(ticket.id)][history:] == []
    # The owner's attempt is refused and parked, with its event
    with pytest.raises(errors.CommandError):
        service.fire_command(command.id, command.payload, owner="quick")
    assert _status(store, command.id) == "dead"
    assert service.history(ticket.id)[-1].trigger == "command_refused"


def test_a_stale_sweeper_fires_nothing_of_a_rung_taken_over(service, store, new_ticket, clock):
    # Given a rung claimed by a slow sweeper, its lease run out, and claimed again by another
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(25 * H)
    slow = store.claim_due(clock.now(), 100, "slow", MINUTE)
    clock.advance(2 * MINUTE)
    quick = store.claim_due(clock.now(), 100, "quick", MINUTE)
    assert {c.id for c in quick} == {c.id for c in slow}
    before = len(service.history(ticket.id))

    # When the slow one fires its claims, alone and as a batch
    assert [service.fire_deadline(c) for c in slow] == [None] * len(slow)
    with pytest.raises(errors.AlreadyFired):
        service.fire_deadlines(slow)

    # Then nothing was written; the owner fires them
    assert len(service.history(ticket.id)) == before
    assert any(d is not None for d in service.fire_deadlines(quick))

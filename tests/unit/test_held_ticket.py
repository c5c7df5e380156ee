"""The ticket a replay holds in memory shows the engine what a store of its own would: the same
snapshot with its open deadlines in row order, the same history, the same rungs due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.engine import escalation, history
from hotline.engine.decide import decide, decide_submit
from hotline.engine.decision import Decision
from hotline.engine.ticket import Command, Ticket
from hotline.errors import AlreadyFired
from hotline.persistence.memory import MemoryStore
from hotline.persistence.sql import NewTicket
from hotline.simulation import held
from hotline.simulation.held import HeldTicket
from hotline.workflows import loader

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
H = timedelta(hours=1)
SHIPPED = loader.compile_source(loader.shipped_text(), 1)
DISPATCH = {"lead_unit": "street-jianwai", "route": "direct"}


def new_ticket() -> NewTicket:
    name = SHIPPED.definition.name
    return NewTicket(name, 1, "received", "water-supply", "normal", "phone", fields={})


def both() -> tuple[MemoryStore, HeldTicket]:
    """A water-supply ticket just taken in, in an unchained MemoryStore and held."""
    store = MemoryStore(chained=False)
    created = store.create(new_ticket(), lambda t: decide_submit(SHIPPED, t, "op", T0), T0)
    taken = Ticket(
        held.TICKET_ID,
        SHIPPED.definition.name,
        1,
        "received",
        "water-supply",
        head_hash=history.UNCHAINED,
        created_at=T0,
        updated_at=T0,
    )
    kept = HeldTicket(taken)
    kept.apply(decide_submit(SHIPPED, taken, "op", T0))
    assert created.id == held.TICKET_ID
    return store, kept


def apply_both(store: MemoryStore, kept: HeldTicket, decided) -> None:
    store.update(held.TICKET_ID, decided)
    decision: Decision | None = decided(kept.ticket)
    if decision is not None:
        kept.apply(decision)


def assert_same(store: MemoryStore, kept: HeldTicket, at: datetime) -> None:
    assert kept.ticket == store.load(held.TICKET_ID)
    assert kept.events == store.events(held.TICKET_ID)
    assert kept.next_fire_at == store.next_fire_at()
    claims = [(c.id, c.rung) for c in store.claim_due(at, 100, "test", timedelta(0))]
    assert kept.due(at) == claims


def test_a_held_ticket_shows_what_a_store_of_its_own_would():
    # Given the same ticket in a MemoryStore and held
    store, kept = both()
    assert_same(store, kept, T0)
    # When both take the same commands, and the rungs that fall due fire on both
    steps = [
        (H, lambda t, at: decide(SHIPPED, t, Command("dispatch", DISPATCH, "op"), at)),
        (2 * H, lambda t, at: decide(SHIPPED, t, Command("respond", {}, "unit"), at)),
    ]
    for after, step in steps:
        at = T0 + after
        apply_both(store, kept, lambda t, s=step, at=at: s(t, at))
        assert_same(store, kept, at)
    late = T0 + 3 * 24 * H  # the 24 h handling limit has passed unanswered
    for deadline_id, rung in kept.due(late):
        apply_both(
            store,
            kept,
            lambda t, d=deadline_id, r=rung: escalation.decide_firing(SHIPPED, t, d, r, late),
        )
    # Then each shows the same snapshot, history and due rungs
    assert_same(store, kept, late)
    assert {"remind", "overdue", "escalate"} <= {e.trigger for e in kept.events}


def test_a_rung_never_fires_twice_on_a_held_ticket():
    # Given a held ticket whose handling deadline's first rung fired
    _, kept = both()
    kept.apply(decide(SHIPPED, kept.ticket, Command("dispatch", DISPATCH, "op"), T0 + H))
    late = T0 + 30 * H
    deadline_id, rung = kept.due(late)[0]
    before = kept.ticket
    fired = escalation.decide_firing(SHIPPED, before, deadline_id, rung, late)
    kept.apply(fired)
    # When the same firing is written again, Then it is refused as a store refuses it
    with pytest.raises(AlreadyFired):
        kept.apply(fired)

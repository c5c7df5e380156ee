"""The store contract, the same on all three stores: in memory, a SQLite file, PostgreSQL.

Each test drives the store's verbs directly with decisions the pure engine makes, so what is
checked is the store: what a write keeps, what it refuses, and that a refused or failed write
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from hotline import errors
from hotline.engine import escalation
from hotline.engine.decide import decide, decide_submit
from hotline.engine.ticket import Command
from hotline.persistence.sql import NewTicket
from hotline.workflows import loader

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
COMPILED = loader.compile_source(loader.shipped_text(), 1)
DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})


@pytest.fixture
def store(any_store):
    any_store.publish_definition("beijing-12345", loader.shipped_text(), T0)
    return any_store


def submit(store, category="water-supply", key=None, digest="a", at=T0, **contact):
    new = NewTicket(
        definition="beijing-12345",
        definition_version=1,
        state="received",
        category=category,
        urgency="normal",
        channel="phone",
        idempotency_key=key,
        idempotency_digest=digest if key else None,
        **contact,
    )
    return store.create(new, lambda t: decide_submit(COMPILED, t, "operator", at), at)


def deciding(trigger, fields=None, at=T0):
    return lambda t: decide(COMPILED, t, Command(trigger, fields or {}, "tester"), at)


def everything(store, ticket_id):
    """What a write can change on one ticket."""
    return (
        store.load(ticket_id),
        store.events(ticket_id),
        [vars(d) if hasattr(d, "__dict__") else d._asdict() for d in store.deadlines(status=None)],
        [(m.key, m.status) for m in store.outbox()],
    )


def test_a_created_ticket_loads_with_its_first_event_and_open_deadlines(store):
    ticket = submit(store)

    loaded = store.load(ticket.id)
    assert (loaded.state, loaded.version, loaded.seq) == ("received", 1, 1)
    assert [d.kind for d in loaded.deadlines] == ["intake"]
    assert all(d.id is not None for d in loaded.deadlines)
    assert [e.trigger for e in store.events(ticket.id)] == ["submit"]


def test_an_update_closes_met_deadlines_opens_new_ones_and_appends_the_event(store):
    ticket = submit(store)

    store.update(ticket.id, deciding(*DISPATCH, at=T0 + H))

    loaded = store.load(ticket.id)
    statuses = {(d.kind, d.status) for d in store.deadlines(ticket.id, status=None)}
    assert loaded.state == "dispatched" and loaded.lead_unit == "water-group"
    assert {("intake", "met"), ("response", "pending"), ("handling", "pending")} <= statuses
    assert [e.trigger for e in store.events(ticket.id)] == ["submit", "dispatch"]
    [handling] = [d for d in loaded.deadlines if d.kind == "handling"]
    assert handling.due_at == T0 + 25 * H  # basic utilities: 24 h from dispatch


def test_unknown_tickets_are_named(store):
    for verb in (store.load, store.events, store.contact):
        with pytest.raises(errors.UnknownTicket, match="no ticket 999"):
            verb(999)
    with pytest.raises(errors.UnknownTicket):
        store.update(999, deciding(*DISPATCH))
    with pytest.raises(errors.UnknownTicket):
        store.load(2**40)  # beyond any id column


def test_a_decision_on_a_stale_snapshot_is_refused_and_writes_nothing(store):
    ticket = submit(store)
    stale = store.load(ticket.id)
    store.update(ticket.id, deciding(*DISPATCH))
    before = everything(store, ticket.id)

    with pytest.raises(errors.StaleVersion) as refused:
        store.update(ticket.id, lambda _: deciding("answer", {"answer": "x"})(stale))

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert everything(store, ticket.id) == before


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param(deciding("reply", {"opinion": "x"}), id="decide raises"),
        pytest.param(lambda _: None, id="decide returns None"),
    ],
)
def test_a_write_that_decides_nothing_writes_nothing(store, outcome):
    ticket = submit(store)
    before = everything(store, ticket.id)

    with contextlib.suppress(errors.IllegalTransition):
        assert store.update(ticket.id, outcome) is None

    assert everything(store, ticket.id) == before


def test_a_guard_saying_no_writes_nothing(store):
    ticket = submit(store)
    before = everything(store, ticket.id)

    assert store.update(ticket.id, deciding(*DISPATCH), guard=lambda _: False) is None
    assert everything(store, ticket.id) == before


def test_update_each_writes_all_or_none(store):
    first, second = submit(store), submit(store)
    before = everything(store, first.id), everything(store, second.id)

    with pytest.raises(errors.IllegalTransition):
        store.update_each([(first.id, deciding(*DISPATCH)), (second.id, deciding("reply"))])
    assert (everything(store, first.id), everything(store, second.id)) == before

    written = store.update_each([(first.id, deciding(*DISPATCH)), (second.id, lambda _: None)])
    assert written[1] is None and store.load(first.id).state == "dispatched"


def test_update_many_writes_every_ticket_or_none(store):
    tickets = [submit(store), submit(store)]
    ids = [t.id for t in tickets]
    store.update(ids[1], deciding(*DISPATCH))
    before = [everything(store, i) for i in ids]

    with pytest.raises(errors.IllegalTransition):
        store.update_many(ids, deciding(*DISPATCH))  # the second is dispatched already

    assert [everything(store, i) for i in ids] == before
    assert len(store.update_many([ids[0]], deciding(*DISPATCH))) == 1


def test_one_idempotency_key_makes_one_ticket_and_refuses_another_request(store):
    first = submit(store, key="call-4711", digest="same")

    assert submit(store, key="call-4711", digest="same").id == first.id
    with pytest.raises(errors.KeyReused):
        submit(store, key="call-4711", digest="other")
    assert len(store.find()) == 1


def test_contact_details_are_kept_apart_from_history(store):
    ticket = submit(store, contact_phone="13812345678", contact_name="张三")

    assert store.contact(ticket.id)["phone"] == "13812345678"
    assert "13812345678" not in str(store.events(ticket.id))
    assert "张三" not in str(store.load(ticket.id))


def test_find_filters_by_state_unit_and_category(store):
    water, noise = submit(store), submit(store, "noise")
    store.update(water.id, deciding(*DISPATCH))

    assert [t.id for t in store.find(state="dispatched")] == [water.id]
    assert [t.id for t in store.find(unit="water-group")] == [water.id]
    assert [t.id for t in store.find(category="noise")] == [noise.id]
    assert len(store.find(limit=1)) == 1


def test_due_rungs_are_leased_earliest_first_and_free_again_after_the_lease(store):
    late, early = submit(store), submit(store, at=T0 - H)

    assert store.next_fire_at() == T0 + H  # intake: 2 h, reminded at its due time
    claims = store.claim_due(T0 + 3 * H, 10, "one", MINUTE)
    assert [c.ticket_id for c in claims] == [early.id, late.id]
    assert store.claim_due(T0 + 3 * H, 10, "two", MINUTE) == []
    assert len(store.claim_due(T0 + 3 * H + 2 * MINUTE, 1, "two", MINUTE)) == 1


def test_firing_a_claimed_rung_advances_it_and_ends_the_claim(store):
    ticket = submit(store)
    [claim] = store.claim_due(T0 + 3 * H, 10, "one", MINUTE)

    store.update(
        ticket.id,
        lambda t: escalation.decide_firing(COMPILED, t, claim.id, claim.rung, T0 + 3 * H),
        fired_by="one",
    )

    [row] = store.deadlines(ticket.id)
    assert (row.rung, row.claimed_by) == (claim.rung + 1, None)
    assert store.events(ticket.id)[-1].trigger == "overdue"


def test_outbox_messages_are_leased_delivered_once_and_a_stale_owner_changes_nothing(store):
    ticket = submit(store)
    store.update(ticket.id, deciding(*DISPATCH))

    [message] = store.claim_outbox(T0, 10, "slow", MINUTE)
    assert (message.handler, message.key) == ("notify_unit", f"{ticket.id}:2:notify_unit")
    assert store.claim_outbox(T0, 10, "quick", MINUTE) == []
    [taken] = store.claim_outbox(T0 + 2 * MINUTE, 10, "quick", MINUTE)
    assert store.outbox_done(taken.id, T0, owner="slow") is False
    assert store.outbox_done(taken.id, T0, "Timeout", T0 + H, owner="quick") is True
    assert store.outbox(status="pending")[0].attempts == 1
    assert store.outbox_done(taken.id, T0) is True
    assert [m.status for m in store.outbox(ticket.id)] == ["delivered"]


def test_definition_versions_keep_unchanged_text_and_number_new_text(store):
    text = loader.shipped_text()

    assert store.publish_definition("beijing-12345", text, T0) == 1
    assert store.publish_definition("beijing-12345", text + "\n# two\n", T0) == 2
    assert store.latest_definition_version("beijing-12345") == 2
    assert store.definition_source("beijing-12345", 1) == (1, text)
    with pytest.raises(errors.UnknownDefinition):
        store.definition_source("beijing-12345", 3)
    with pytest.raises(errors.UnknownDefinition):
        store.latest_definition_version("nowhere")

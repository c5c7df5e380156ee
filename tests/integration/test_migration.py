"""Versioned definitions: new tickets on the newest version, running ones moved only by migrate."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest

from hotline.admin import audit
from hotline.admin import versions as versioning
from hotline.engine.migration import UnmappedStates
from hotline.workflows import loader

H = timedelta(hours=1)
NAME = loader.DEFAULT
DISPATCH = ("dispatch", {"lead_unit": "water-group", "route": "direct"})
TO_CALLBACK = [DISPATCH, ("reply", {"opinion": "fixed"}), ("start_callback", {})]


def version_2() -> str:
    """The shipped workflow with its callback state renamed and a 12 h utility limit."""
    text = loader.shipped_text()
    text = text.replace(
        "within: 24h\n        kinds: [utility]", "within: 12h\n        kinds: [utility]"
    )
    return re.sub(r"\bcallback\b", "recheck", text)


@pytest.fixture
def published(service):
    """Version 2 published after the tickets of the test were taken in on version 1."""
    return lambda: service.publish(version_2(), "v2.yaml")[1]


def test_new_tickets_use_the_newest_version_while_running_ones_stay(service, new_ticket, published):
    running = new_ticket("water-supply", steps=[DISPATCH])

    assert published() == 2
    fresh = new_ticket("water-supply", steps=[DISPATCH])

    assert service.get(running.id).definition_version == 1
    assert fresh.definition_version == 2
    assert service.allowed(service.get(running.id)) == service.allowed(fresh)


def test_a_state_the_new_version_lacks_is_refused_until_mapped(service, new_ticket, published):
    new_ticket("noise", steps=TO_CALLBACK)
    new_ticket("noise", steps=TO_CALLBACK)
    new_ticket("water-supply", steps=[DISPATCH])
    new_ticket("noise", steps=[("answer", {"answer": "told"})])  # closed: not running
    published()

    with pytest.raises(UnmappedStates, match=r"'callback' \(2 ticket\(s\)\)"):
        versioning.plan(service, NAME, 1, 2, {})
    plan = versioning.plan(service, NAME, 1, 2, {"callback": "recheck"})

    assert plan.moves == {("callback", "recheck"): 2, ("dispatched", "dispatched"): 1}
    assert {t.definition_version for t in service.store.find()} == {1}  # nothing written


def test_migration_keeps_the_clock_and_recomputes_the_due_time_under_the_new_rule(
    service, new_ticket, published, clock
):
    # Given a utility ticket dispatched at 09:00 (24 h limit), paused 3 h after 2 h
    start = clock.now()
    ticket = new_ticket("water-supply", steps=[DISPATCH])
    clock.advance(2 * H)
    service.fire(ticket.id, "pause", {"reason": "citizen away"})
    clock.advance(3 * H)
    service.fire(ticket.id, "resume")
    clock.advance(1 * H)
    published()

    # When it is migrated to version 2, whose limit is 12 h
    moved = versioning.migrate(service, versioning.plan(service, NAME, 1, 2, {}), actor="admin")

    # Then its handling clock keeps the 2 h used and the 3 h pause: due 12 h of running time
    # after the dispatch, not 12 h after the migration
    after = service.get(ticket.id)
    handling = next(d for d in after.deadlines if d.kind == "handling")
    assert moved == 1 and after.definition_version == 2
    assert handling.due_at == start + 3 * H + 12 * H
    assert handling.window == 12 * 3600
    event = service.history(ticket.id)[-1]
    assert (event.trigger, event.actor, event.payload["to_version"]) == ("migrate", "admin", 2)
    # and its history still rebuilds the live ticket, across the version change
    rebuilt = audit.as_of(service, ticket.id, clock.now())
    assert without_ids(rebuilt) == without_ids(after)


def without_ids(ticket):
    return ticket.evolve(deadlines=tuple(d.evolve(id=None) for d in ticket.deadlines))


def test_an_interrupted_migration_resumes_where_it_stopped(service, new_ticket, published):
    tickets = [new_ticket("noise", steps=TO_CALLBACK) for _ in range(5)]
    published()
    plan = versioning.plan(service, NAME, 1, 2, {"callback": "recheck"})

    def crash_after_first_batch(n):
        raise RuntimeError("killed")

    # When the first run dies after its first batch of two
    with pytest.raises(RuntimeError, match="killed"):
        versioning.migrate(service, plan, batch=2, on_batch=crash_after_first_batch)
    versions = Counter(service.get(t.id).definition_version for t in tickets)
    assert versions == {2: 2, 1: 3}

    # Then running it again moves only the rest, each ticket once
    assert versioning.plan(service, NAME, 1, 2, {"callback": "recheck"}).total == 3
    assert versioning.migrate(service, plan, batch=2) == 3
    for t in tickets:
        live = service.get(t.id)
        migrations = [e for e in service.history(t.id) if e.trigger == "migrate"]
        assert (live.definition_version, live.state, len(migrations)) == (2, "recheck", 1)
    assert audit.verify(service).ok

"""A model-based test (Hypothesis ``RuleBasedStateMachine``) over the real service and store.

Random sequences of intake (new and repeated idempotency keys), every trigger of the shipped
definition with valid and invalid fields, moving the clock and sweeping, publishing a new
version and migrating to it, and closing and reopening the store, on SQLite and PostgreSQL.
After every step the store must agree with a plain-Python model of the tickets (state,
version), every chain must verify, a rebuild from the history must equal the live ticket, and
a sweep must leave no due rung unfired and fire nothing twice. Failures print the shrunk
sequence of steps.

``HOTLINE_MODEL_EXAMPLES`` runs more examples (a nightly run); CI runs a bounded number.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hotline import errors
from hotline.admin import audit, versions
from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

EXAMPLES = int(os.environ.get("HOTLINE_MODEL_EXAMPLES", "20"))
CATEGORIES = ["noise", "water-supply", "road-damage"]
TRIGGERS = sorted(
    {t.trigger for t in loader.parse(loader.shipped_text(loader.DEFAULT)).transitions}
)

# Fields for the shipped workflow's commands: each trigger draws from these, so some commands
# are valid and many are refused (a missing or wrong field, a trigger its state does not allow).
FIELDS: list[dict[str, Any]] = [
    {},
    {"lead_unit": "street-jianwai", "route": "direct"},
    {"lead_unit": "no-such-unit", "route": "direct"},
    {"lead_unit": "street-jianwai", "reason": "the centre re-routes"},
    {"method": "phone", "note": "called the requester"},
    {"opinion": "fixed the pipe"},
    {"reason": "works outside our remit"},
    {"reason": "waiting for parts", "by": "24h", "explained": "told the citizen", "approver": "c"},
    {"resolved": True, "satisfaction": "satisfied"},
    {"resolved": False, "satisfaction": "unsatisfied"},
    {"resolved": "maybe", "satisfaction": "very"},
    {"reason": "duplicate", "approver": "centre-lead"},
    {"answer": "opening hours are 9 to 5"},
]

# A valid command for each trigger of the shipped workflow the runs should reach.
VALID: dict[str, dict[str, Any]] = {
    "answer": {"answer": "opening hours are 9 to 5"},
    "dispatch": {"lead_unit": "street-jianwai", "route": "direct"},
    "respond": {"method": "phone"},
    "return": {"reason": "works outside our remit"},
    "confirm_objection": {"reason": "back to dispatch"},
    "reject_objection": {"reason": "it is yours"},
    "extend": FIELDS[7],
    "pause": {"reason": "waiting for the citizen"},
    "resume": {},
    "reply": {"opinion": "fixed the pipe"},
    "start_callback": {},
    "record_callback": {"resolved": True, "satisfaction": "satisfied"},
    "redispatch": {"lead_unit": "street-jianwai", "reason": "not fixed"},
    "close_unresolved": {"reason": "cannot be solved", "approver": "centre-lead"},
    "exclude": {"reason": "duplicate", "approver": "centre-lead"},
    "whistle": {"to": ["water-group", "chaoyang-roads"], "reason": "a leaking main"},
    "whistle_report": {"department": "water-group", "person": "Wang"},
    "whistle_decline": {"department": "chaoyang-roads", "reason": "not ours"},
    "whistle_accept_decline": {"department": "chaoyang-roads"},
    "whistle_close": {"reason": "handled together"},
}

# What the random runs did, so the test fails if they stop exercising the engine.
SEEN: Counter[str] = Counter()


class HotlineModel(RuleBasedStateMachine):
    """The store under random commands, beside the model of what it should hold."""

    url: str
    clock: FrozenClock

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.service = Service(SqlStore(self.url), self.clock)
        self.sweeper = Sweeper(self.service, owner="model")
        self.model: dict[int, tuple[str, int]] = {}  # ticket id -> (state, version)
        self.keys: dict[str, tuple[str, int]] = {}  # idempotency key -> (category, ticket)
        self.run = uuid.uuid4().hex[:8]  # keys of one example never meet another's
        self.published = False

    def teardown(self) -> None:
        self.service.store.close()

    @rule(
        target=tickets,
        category=st.sampled_from(CATEGORIES),
        key=st.sampled_from([None, "a", "b"]),
    )
    def submit(self, category: str, key: str | None):
        scoped = f"{self.run}-{key}" if key else None
        first = self.keys.get(scoped) if scoped else None
        intake = Intake(category, f"model ticket ({category})")
        if first and first[0] != category:
            with pytest.raises(errors.KeyReused):
                self.service.submit(intake, idempotency_key=scoped)
            return multiple()
        ticket = self.service.submit(intake, idempotency_key=scoped)
        if first:
            assert ticket.id == first[1]  # the repeat returns the first ticket, unchanged
            return multiple()
        if scoped:
            self.keys[scoped] = (category, ticket.id)
        self.model[ticket.id] = (ticket.state, ticket.version)
        return ticket.id

    @rule(
        ticket_id=tickets,
        trigger=st.sampled_from([*TRIGGERS, "no_such_trigger"]),
        fields=st.sampled_from(FIELDS),
    )
    def fire(self, ticket_id: int, trigger: str, fields: dict[str, Any]) -> None:
        self._fire(ticket_id, trigger, fields)

    @rule(ticket_id=tickets, data=st.data())
    def fire_an_allowed_trigger(self, ticket_id: int, data: st.DataObject) -> None:
        # exclude is allowed everywhere and would end most runs early: the random rule above
        # still draws it
        ticket = self.service.get(ticket_id)
        allowed = [t for t in self.service.allowed(ticket) if t in VALID and t != "exclude"]
        if allowed:
            trigger = data.draw(st.sampled_from(allowed), label="trigger")
            self._fire(ticket_id, trigger, VALID[trigger])

    def _fire(self, ticket_id: int, trigger: str, fields: dict[str, Any]) -> None:
        before = self.service.get(ticket_id)
        allowed = self.service.allowed(before)
        try:
            after = self.service.fire(ticket_id, trigger, fields, actor="centre")
        except errors.HotlineError:
            now = self.service.get(ticket_id)
            assert (now.state, now.version) == (before.state, before.version)  # nothing written
            SEEN["refused"] += 1
            SEEN[f"refused {trigger}"] += 1
            return
        SEEN["applied"] += 1
        SEEN[trigger] += 1
        assert trigger in allowed, f"{trigger} fired from {before.state}, allowed {allowed}"
        assert after.version > before.version
        self.model[ticket_id] = (after.state, after.version)

    @rule(hours=st.sampled_from([1, 5, 26, 24 * 4, 24 * 20]))
    def advance_and_sweep(self, hours: int) -> None:
        now = self.clock.advance(timedelta(hours=hours))
        SEEN["fired"] += len(self.sweeper.sweep(now))
        due = self.service.pending_deadlines(due_before=now)
        assert not [d for d in due if d.fire_at is not None and d.fire_at <= now]  # all fired
        assert self.sweeper.sweep(now) == []  # a second sweep at the same instant fires nothing
        for ticket_id, (_, version) in self.model.items():
            ticket = self.service.get(ticket_id)
            assert ticket.version >= version
            self.model[ticket_id] = (ticket.state, ticket.version)

    @precondition(lambda self: not self.published)  # compiling versions is slow: once a run
    @rule()
    def publish_and_migrate(self) -> None:
        # A new version of the same workflow (a comment differs), every running ticket moved.
        name = loader.DEFAULT
        current = self.service.latest_version(name)
        text = loader.shipped_text(name) + f"\n# republished by the model test {uuid.uuid4().hex}\n"
        _, published = self.service.publish(text)
        versions.migrate(self.service, versions.plan(self.service, name, current, published, {}))
        for ticket_id, (_, version) in self.model.items():
            ticket = self.service.get(ticket_id)
            assert ticket.version in (version, version + 1)  # moved once, or closed already
            self.model[ticket_id] = (ticket.state, ticket.version)
        SEEN["migrated"] += 1
        self.published = True

    @rule()
    def crash_and_reopen(self) -> None:
        self.service.store.close()
        self.service = Service(SqlStore(self.url), self.clock)
        self.sweeper = Sweeper(self.service, owner="model")

    @invariant()
    def store_equals_model_and_history(self) -> None:
        for ticket_id, (state, version) in self.model.items():
            live = self.service.get(ticket_id)
            assert (live.state, live.version) == (state, version)
            rebuilt = audit.as_of(self.service, ticket_id, None)
            assert (rebuilt.state, rebuilt.version, rebuilt.round) == (
                live.state,
                live.version,
                live.round,
            )
            report = audit.verify(self.service, ticket_id)
            assert report.ok, report.problems


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_random_commands_keep_the_store_equal_to_the_model(store):
    store.migrate()
    Service(store).install_shipped()
    SEEN.clear()
    HotlineModel.url = store.url
    HotlineModel.clock = FrozenClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    run_state_machine_as_test(
        HotlineModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert SEEN["applied"] and SEEN["refused"] and SEEN["fired"], SEEN

"""A model-based test (Hypothesis ``RuleBasedStateMachine``) over the real service and store.

Random sequences of intake (new and repeated idempotency keys), every trigger of the shipped
definition with valid and invalid fields, walks of allowed commands (extension, pause and
resume, whistles with reports, declines, conferences and tasks, callbacks and re-dispatch),
moving the clock and sweeping (with the relay of the rungs' commands), publishing a new version
and migrating to it, and closing and reopening the store, on SQLite and PostgreSQL. After every
step the store must agree with a plain-Python model of the tickets (state, version, round, each
open deadline's status and rung: rungs advance only by the firings a sweep reported), every
chain must verify, a rebuild from the history must equal the live ticket, a sweep must leave
no due rung unfired, and no (deadline, rung) may fire twice in a run. Failures print the shrunk
sequence of steps.

``HOTLINE_MODEL_EXAMPLES`` runs more examples (a nightly run); CI runs a bounded number.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hotline import errors
from hotline.admin import audit, versions
from hotline.clock import FrozenClock
from hotline.daemon.relay import Relay
from hotline.daemon.sweeper import Sweeper
from hotline.engine.decision import Decision
from hotline.engine.escalation import FIRED
from hotline.engine.ticket import Ticket
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.workflows import loader

EXAMPLES = int(os.environ.get("HOTLINE_MODEL_EXAMPLES", "20"))
CATEGORIES = ["noise", "water-supply", "road-damage"]
OPEN = ("pending", "paused")  # a deadline's statuses while its clock exists
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

# A valid command for each trigger of the shipped workflow the runs should reach, in the order
# the walks prefer them (Hypothesis favours the first): the long way round before the short.
VALID: dict[str, dict[str, Any]] = {
    "dispatch": {"lead_unit": "street-jianwai", "route": "direct"},
    "respond": {"method": "phone"},
    "extend": FIELDS[7],
    "pause": {"reason": "waiting for the citizen"},
    "resume": {},
    "whistle": {"to": ["water-group", "chaoyang-roads"], "reason": "a leaking main"},
    "whistle_report": {"department": "water-group", "person": "Wang"},
    "whistle_decline": {"department": "chaoyang-roads", "reason": "not ours"},
    "whistle_reject_decline": {"department": "chaoyang-roads", "reason": "it is yours"},
    "whistle_accept_decline": {"department": "chaoyang-roads"},
    "whistle_conference": {
        "held_at": "2026-03-03T02:00:00+00:00",
        "attendees": ["water-group"],
        "decisions": "dig on Monday",
    },
    "whistle_task": {"owner": "water-group", "title": "dig", "due": "2026-09-01T00:00:00+00:00"},
    "whistle_task_done": {"task": 1},
    "whistle_close": {"reason": "handled together"},
    "reply": {"opinion": "fixed the pipe"},
    "start_callback": {},
    "record_callback": {"resolved": False, "satisfaction": "unsatisfied"},
    "redispatch": {"lead_unit": "street-jianwai", "reason": "not fixed"},
    "return": {"reason": "works outside our remit"},
    "confirm_objection": {"reason": "back to dispatch"},
    "reject_objection": {"reason": "it is yours"},
    "close_unresolved": {"reason": "cannot be solved", "approver": "centre-lead"},
    "answer": {"answer": "opening hours are 9 to 5"},
    "exclude": {"reason": "duplicate", "approver": "centre-lead"},
}
# Commands the walks reach often enough that a run which never applies them has stopped
# exercising the engine.
DEEP = ("extend", "pause", "resume", "whistle", "reply", "start_callback", "record_callback")

# What the random runs did, so the test fails if they stop exercising the engine.
SEEN: Counter[str] = Counter()


@dataclass(frozen=True)
class Expected:
    """What the model holds of a ticket: its state, version and round, and each open
    deadline's status and rung (the position of its next firing)."""

    state: str
    version: int
    round: int
    rungs: dict[int, tuple[str, int]]


def observed(ticket: Ticket) -> Expected:
    rungs = {d.id: (d.status, d.rung) for d in ticket.deadlines if d.status in OPEN}
    return Expected(ticket.state, ticket.version, ticket.round, rungs)


def fired_by_deadline(decisions: list[Decision]) -> Counter[int]:
    return Counter(
        e.payload["deadline_id"] for d in decisions for e in d.events if e.trigger in FIRED
    )


def moved_on(before: Expected, after: Expected, fired: Counter[int]) -> None:
    """Rungs only advance by firing: a deadline still open has moved on by exactly the rungs
    fired on it, and one opened since starts at its first rung (plus any fired at once)."""
    for deadline_id, (_, rung) in after.rungs.items():
        start = before.rungs[deadline_id][1] if deadline_id in before.rungs else 0
        assert rung == start + fired[deadline_id], (deadline_id, before, after, fired)


class HotlineModel(RuleBasedStateMachine):
    """The store under random commands, beside the model of what it should hold."""

    url: str
    clock: FrozenClock

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.service = Service(SqlStore(self.url), self.clock)
        self.sweeper = Sweeper(self.service, owner="model")
        self.relay = Relay(self.service, owner="model")
        self.model: dict[int, Expected] = {}
        self.fired: set[tuple[int, str, int]] = set()  # (deadline, event, level) fired so far
        self.keys: dict[str, tuple[str, int]] = {}  # idempotency key -> (category, ticket)
        self.run = uuid.uuid4().hex[:8]  # keys of one example never meet another's
        self.published = False
        self.applied_since_crash = 0

    def teardown(self) -> None:
        self.service.store.close()

    @initialize(target=tickets, category=st.sampled_from(CATEGORIES))
    def first_ticket(self, category: str) -> int:
        """Every run starts with a ticket, so walks have one to take from the first step."""
        return self.submit(category, None)

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
        self.model[ticket.id] = observed(self.service.get(ticket.id))
        assert all(rung == 0 for _, rung in self.model[ticket.id].rungs.values())
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
        allowed = set(self.service.allowed(ticket))
        allowed = [t for t in VALID if t in allowed and t != "exclude"]
        if allowed:
            trigger = data.draw(st.sampled_from(allowed), label="trigger")
            self._fire(ticket_id, trigger, VALID[trigger])

    @rule(ticket_id=tickets, data=st.data())
    def walk(self, ticket_id: int, data: st.DataObject) -> None:
        """Several allowed commands in a row: deep paths (extension, pause and resume, a
        whistle's reports, declines and tasks) within a few steps."""
        for _ in range(6):
            self.fire_an_allowed_trigger(ticket_id, data)

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
        self.applied_since_crash += 1
        SEEN[trigger] += 1
        assert trigger in allowed, f"{trigger} fired from {before.state}, allowed {allowed}"
        assert after.version > before.version
        stored = observed(self.service.get(ticket_id))
        moved_on(self.model[ticket_id], stored, Counter())  # a command fires no rung
        self.model[ticket_id] = stored

    @rule(hours=st.sampled_from([1, 5, 26, 24 * 4, 24 * 20]))
    def advance_and_sweep(self, hours: int) -> None:
        now = self.clock.advance(timedelta(hours=hours))
        decisions = self.sweeper.sweep(now)
        SEEN["fired"] += len(decisions)
        for event in (e for d in decisions for e in d.events if e.trigger in FIRED):
            rung = (event.payload["deadline_id"], event.trigger, event.payload.get("level", 0))
            assert rung not in self.fired, f"{rung} fired twice"
            self.fired.add(rung)
        self.relay.relay(now)  # the commands rungs send after commit (an automatic whistle)
        due = self.service.pending_deadlines(due_before=now)
        assert not [d for d in due if d.fire_at is not None and d.fire_at <= now]  # all fired
        assert self.sweeper.sweep(now) == []  # a second sweep at the same instant fires nothing
        fired = fired_by_deadline(decisions)
        for ticket_id, before in self.model.items():
            after = observed(self.service.get(ticket_id))
            assert after.version >= before.version
            moved_on(before, after, fired)
            self.model[ticket_id] = after

    @precondition(lambda self: not self.published)  # compiling versions is slow: once a run
    @rule()
    def publish_and_migrate(self) -> None:
        # A new version of the same workflow (a comment differs), every running ticket moved.
        name = loader.DEFAULT
        current = self.service.latest_version(name)
        text = loader.shipped_text(name) + f"\n# republished by the model test {uuid.uuid4().hex}\n"
        _, published = self.service.publish(text)
        versions.migrate(self.service, versions.plan(self.service, name, current, published, {}))
        for ticket_id, before in self.model.items():
            after = observed(self.service.get(ticket_id))
            assert after.version in (before.version, before.version + 1)  # moved, or closed
            moved_on(before, after, Counter())  # the same ladders: every rung kept
            self.model[ticket_id] = after
        SEEN["migrated"] += 1
        self.published = True

    # Hypothesis draws argument-free rules often: a crash waits for some work since the last.
    @precondition(lambda self: self.applied_since_crash >= 2)
    @rule()
    def crash_and_reopen(self) -> None:
        self.applied_since_crash = 0
        self.service.store.close()
        self.service = Service(SqlStore(self.url), self.clock)
        self.sweeper = Sweeper(self.service, owner="model")
        self.relay = Relay(self.service, owner="model")

    @invariant()
    def store_equals_model_and_history(self) -> None:
        for ticket_id, expected in self.model.items():
            live = self.service.get(ticket_id)
            assert observed(live) == expected
            # A rebuild numbers the deadlines it opens itself: compare all but their ids.
            rebuilt = observed(audit.as_of(self.service, ticket_id, None))
            assert rebuilt == replace(expected, rungs=rebuilt.rungs)
            assert sorted(rebuilt.rungs.values()) == sorted(expected.rungs.values())
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
    assert all(SEEN[trigger] for trigger in DEEP), SEEN

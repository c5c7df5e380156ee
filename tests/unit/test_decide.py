"""The engine's judgement on the shipped Beijing 12345 definition, without a database.

Each test builds a ticket snapshot, fires commands through ``decide`` and reads the Decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.engine import decide, history
from hotline.engine.decision import DeadlinesClosed, DeadlineStatus, Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Ticket
from hotline.errors import (
    GuardRejected,
    IllegalTransition,
    InvalidField,
    MissingField,
    StaleVersion,
)
from hotline.workflows import loader

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TICKET_ID = 42

Step = tuple[str, dict[str, Any]]
DISPATCH: Step = ("dispatch", {"lead_unit": "chaoyang-housing", "route": "direct"})
RESPOND: Step = ("respond", {"method": "phone"})
REPLY: Step = ("reply", {"opinion": "the lift was repaired on Tuesday"})
START_CALLBACK: Step = ("start_callback", {})
SOLVED: Step = ("record_callback", {"resolved": True, "satisfaction": "satisfied"})
UNSOLVED: Step = ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"})
ROUND = (RESPOND, REPLY, START_CALLBACK)


def _compile(text: str) -> CompiledDefinition:
    return CompiledDefinition(loader.parse(text, "beijing-12345"))


@pytest.fixture(scope="module")
def compiled() -> CompiledDefinition:
    return _compile(loader.shipped_text())


@pytest.fixture
def ticket_factory() -> Callable[..., Ticket]:
    """Builder: a ticket snapshot as the store would hand it over, with any field changed."""

    def build(**changes: Any) -> Ticket:
        ticket = Ticket(
            id=TICKET_ID,
            definition="beijing-12345",
            definition_version=1,
            state="received",
            category="noise",
            created_at=T0,
        )
        return ticket.evolve(**changes)

    return build


@pytest.fixture
def fire(compiled: CompiledDefinition) -> Callable[..., Decision]:
    """Builder: decide one command on a ticket."""

    def fire_(
        ticket: Ticket,
        trigger: str,
        fields: dict[str, Any] | None = None,
        *,
        at: datetime = T0,
        expected_version: int | None = None,
        using: CompiledDefinition | None = None,
    ) -> Decision:
        command = Command(trigger, fields or {}, "operator-7", expected_version)
        return decide.decide(using or compiled, ticket, command, at)

    return fire_


@pytest.fixture
def walk(fire: Callable[..., Decision]) -> Callable[..., list[Decision]]:
    """Builder: fire steps one after the other, an hour apart; return every decision."""

    def walk_(ticket: Ticket, *steps: Step) -> list[Decision]:
        decisions = []
        for hours, (trigger, fields) in enumerate(steps):
            decision = fire(ticket, trigger, fields, at=T0 + timedelta(hours=hours))
            decisions.append(decision)
            ticket = decision.after
        return decisions

    return walk_


def states(decisions: list[Decision]) -> list[str]:
    return [d.after.state for d in decisions]


def windows(decision: Decision) -> dict[str, timedelta]:
    return {d.kind: d.due_at - d.opened_at for d in decision.opened}


# Outcomes without dispatch.


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        ("answer", {"answer": "the subsidy is applied for at the street office"}),
        ("refer", {"to": "110", "reason": "a crime in progress"}),
        ("merge_repeat", {"repeat_of": 7}),
        ("decline", {"reason": "a dispute between private parties"}),
    ],
)
def test_a_received_ticket_can_be_closed_without_dispatch(ticket_factory, fire, trigger, fields):
    ticket = ticket_factory()

    decision = fire(ticket, trigger, fields)

    assert decision.after.state == "closed"
    assert decision.closed == (DeadlinesClosed("received", DeadlineStatus.CANCELLED),)
    assert decision.opened == ()
    (event,) = decision.events
    assert (event.trigger, event.from_state, event.to_state) == (trigger, "received", "closed")
    assert event.payload == fields


# The handling round.


def test_a_dispatched_ticket_that_is_solved_at_callback_closes(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, DISPATCH, RESPOND, REPLY, START_CALLBACK, SOLVED)

    assert states(decisions) == ["dispatched", "dispatched", "handled", "callback", "closed"]
    assert decisions[-1].after.round == 1
    assert decisions[-1].after.lead_unit == "chaoyang-housing"


def test_dispatch_copies_units_and_category_onto_the_ticket(ticket_factory, fire):
    ticket = ticket_factory()

    decision = fire(
        ticket,
        "dispatch",
        {
            "lead_unit": "chaoyang-water",
            "co_units": "chaoyang-housing, chaoyang-street",
            "route": "via_district",
            "category": "water-supply",
        },
    )

    assert decision.after.lead_unit == "chaoyang-water"
    assert decision.after.co_units == ("chaoyang-housing", "chaoyang-street")
    assert decision.after.category == "water-supply"
    assert decision.after.fields == {"route": "via_district"}


def test_unsatisfied_callback_redispatches_to_the_same_unit_in_a_new_round(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, DISPATCH, *ROUND, UNSOLVED)

    redispatched = decisions[-1].after
    assert redispatched.state == "re-dispatched"
    assert redispatched.round == 2
    assert redispatched.lead_unit == "chaoyang-housing"
    assert [m.handler for m in decisions[-1].outbox] == ["notify_unit"]


def test_a_redispatched_ticket_is_handled_again_and_closes_when_solved(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, DISPATCH, *ROUND, UNSOLVED, *ROUND, SOLVED)

    assert states(decisions)[4:] == [
        "re-dispatched",
        "re-dispatched",
        "handled",
        "callback",
        "closed",
    ]
    assert decisions[-1].after.round == 2
    assert decisions[5].after.fields["responded_round"] == 2


@pytest.mark.parametrize(
    ("resolved", "satisfaction"),
    [(False, "satisfied"), (True, "unsatisfied"), (False, "basic")],
)
def test_a_callback_that_is_not_both_yes_redispatches(ticket_factory, fire, resolved, satisfaction):
    ticket = ticket_factory(state="callback", lead_unit="chaoyang-housing")

    decision = fire(ticket, "record_callback", {"resolved": resolved, "satisfaction": satisfaction})

    assert decision.after.state == "re-dispatched"


def test_basic_satisfaction_counts_as_both_yes_when_the_kpi_says_so(ticket_factory, fire):
    ticket = ticket_factory(state="callback", lead_unit="chaoyang-housing")

    decision = fire(ticket, "record_callback", {"resolved": True, "satisfaction": "basic"})

    assert decision.after.state == "closed"


def test_basic_satisfaction_redispatches_when_the_kpi_does_not_count_it(ticket_factory, fire):
    text = loader.shipped_text()
    strict = _compile(
        text.replace("basic_counts_as_satisfied: true", "basic_counts_as_satisfied: false")
    )
    assert strict.definition.kpi.basic_counts_as_satisfied is False
    ticket = ticket_factory(state="callback", lead_unit="chaoyang-housing")

    decision = fire(
        ticket, "record_callback", {"resolved": True, "satisfaction": "basic"}, using=strict
    )

    assert decision.after.state == "re-dispatched"


def test_a_second_response_in_the_same_round_is_refused(ticket_factory, walk, fire):
    ticket = ticket_factory()
    responded = walk(ticket, DISPATCH, RESPOND)[-1].after

    with pytest.raises(GuardRejected) as refused:
        fire(responded, *RESPOND)

    assert refused.value.failed == ["not_responded"]


# 退单 and redispatch.


def test_a_returned_ticket_goes_back_to_received_without_units(ticket_factory, fire):
    ticket = ticket_factory(
        state="dispatched", lead_unit="chaoyang-housing", co_units=("chaoyang-street",)
    )

    decision = fire(ticket, "return", {"reason": "the building belongs to Haidian"})

    assert decision.after.state == "received"
    assert decision.after.lead_unit is None
    assert decision.after.co_units == ()
    assert [m.handler for m in decision.outbox] == ["notify_centre"]


def test_a_returned_ticket_can_be_dispatched_to_another_unit(ticket_factory, walk):
    ticket = ticket_factory()
    to_haidian = ("dispatch", {"lead_unit": "haidian-housing", "route": "direct"})

    decisions = walk(ticket, DISPATCH, ("return", {"reason": "not ours"}), to_haidian)

    assert states(decisions) == ["dispatched", "received", "dispatched"]
    assert decisions[-1].after.lead_unit == "haidian-housing"


@pytest.mark.xfail(
    strict=True,
    raises=GuardRejected,
    reason="BUG: clear_units keeps responded_round, so the next unit cannot respond",
)
def test_the_unit_a_returned_ticket_is_dispatched_to_can_respond(ticket_factory, walk):
    ticket = ticket_factory()
    to_haidian = ("dispatch", {"lead_unit": "haidian-housing", "route": "direct"})

    decisions = walk(
        ticket, DISPATCH, RESPOND, ("return", {"reason": "not ours"}), to_haidian, RESPOND
    )

    assert decisions[-1].closed == (
        DeadlinesClosed("dispatched", DeadlineStatus.MET, ("response",)),
    )


def test_redispatch_gives_the_rehandling_to_another_unit(ticket_factory, fire):
    ticket = ticket_factory(state="re-dispatched", round=2, lead_unit="chaoyang-housing")

    decision = fire(
        ticket, "redispatch", {"lead_unit": "chaoyang-urban", "reason": "it is a street lamp"}
    )

    assert decision.after.state == "re-dispatched"
    assert decision.after.lead_unit == "chaoyang-urban"
    assert decision.after.round == 2
    assert [m.handler for m in decision.outbox] == ["notify_unit"]


def test_redispatch_to_the_same_unit_is_refused(ticket_factory, fire):
    ticket = ticket_factory(state="re-dispatched", round=2, lead_unit="chaoyang-housing")

    with pytest.raises(GuardRejected) as refused:
        fire(ticket, "redispatch", {"lead_unit": "chaoyang-housing", "reason": "again"})

    assert refused.value.failed == ["other_unit"]
    assert (refused.value.trigger, refused.value.state) == ("redispatch", "re-dispatched")


# 剔除.

EXCLUDE: Step = ("exclude", {"approver": "director-li", "reason": "a duplicate by a robot"})


@pytest.mark.parametrize(
    "state", ["received", "dispatched", "handled", "callback", "re-dispatched", "closed"]
)
def test_a_ticket_can_be_excluded_in_any_state_and_stays_there(ticket_factory, fire, state):
    ticket = ticket_factory(state=state)

    decision = fire(ticket, *EXCLUDE)

    assert decision.after.excluded is True
    assert decision.after.state == state
    assert decision.closed == ()
    assert decision.opened == ()


def test_an_excluded_ticket_cannot_be_excluded_again(ticket_factory, fire):
    ticket = ticket_factory(state="dispatched", excluded=True)

    with pytest.raises(GuardRejected) as refused:
        fire(ticket, *EXCLUDE)

    assert refused.value.failed == ["not_excluded"]


# The round limit.


def test_after_the_last_round_an_unsolved_callback_waits_in_callback(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, DISPATCH, *ROUND, UNSOLVED, *ROUND, UNSOLVED, *ROUND, UNSOLVED)

    last = decisions[-1].after
    assert (last.state, last.round) == ("callback", 3)
    assert last.fields["satisfaction"] == "unsatisfied"
    assert decisions[-1].outbox == ()


def test_close_unresolved_closes_a_ticket_at_the_round_limit(ticket_factory, fire):
    ticket = ticket_factory(state="callback", round=3, lead_unit="chaoyang-housing")
    waiting = fire(ticket, *UNSOLVED).after

    decision = fire(
        waiting, "close_unresolved", {"reason": "needs a new law", "approver": "director-li"}
    )

    assert decision.after.state == "closed"
    assert decision.closed == (DeadlinesClosed("callback", DeadlineStatus.CANCELLED),)


@pytest.mark.parametrize("round_", [1, 2])
def test_close_unresolved_before_the_round_limit_is_refused(ticket_factory, fire, round_):
    ticket = ticket_factory(state="callback", round=round_)

    with pytest.raises(GuardRejected) as refused:
        fire(ticket, "close_unresolved", {"reason": "tired of it", "approver": "director-li"})

    assert refused.value.failed == ["round_limit_reached"]


# Refusals.


def test_an_illegal_trigger_names_the_state_and_the_allowed_triggers(ticket_factory, fire):
    ticket = ticket_factory()

    with pytest.raises(IllegalTransition) as refused:
        fire(ticket, *REPLY)

    error = refused.value
    assert (error.state, error.trigger) == ("received", "reply")
    assert error.allowed == ["answer", "refer", "merge_repeat", "decline", "dispatch", "exclude"]
    assert "'received'" in str(error)
    assert "dispatch" in str(error)


def test_a_missing_required_field_is_named(ticket_factory, fire):
    ticket = ticket_factory()

    with pytest.raises(MissingField) as refused:
        fire(ticket, "dispatch", {"lead_unit": "chaoyang-housing"})

    assert (refused.value.trigger, refused.value.field) == ("dispatch", "route")


def test_a_value_outside_an_enum_is_invalid(ticket_factory, fire):
    ticket = ticket_factory()

    with pytest.raises(InvalidField) as refused:
        fire(ticket, "dispatch", {"lead_unit": "chaoyang-housing", "route": "by_pigeon"})

    assert refused.value.field == "route"
    assert "direct" in str(refused.value)


def test_an_undeclared_field_is_invalid_and_the_declared_ones_are_listed(ticket_factory, fire):
    ticket = ticket_factory()
    trigger, fields = DISPATCH

    with pytest.raises(InvalidField) as refused:
        fire(ticket, trigger, {**fields, "priority": "high"})

    assert refused.value.field == "priority"
    assert "'dispatch' has no such field" in refused.value.reason
    assert "lead_unit" in refused.value.reason


def test_a_command_on_a_stale_version_is_refused(ticket_factory, fire):
    ticket = ticket_factory(version=3)

    with pytest.raises(StaleVersion) as refused:
        fire(ticket, *DISPATCH, expected_version=2)

    assert (refused.value.ticket_id, refused.value.expected, refused.value.actual) == (42, 2, 3)


def test_a_command_on_the_current_version_advances_it(ticket_factory, fire):
    ticket = ticket_factory(version=3)

    decision = fire(ticket, *DISPATCH, expected_version=3)

    assert decision.after.version == 4
    assert decision.after.updated_at == T0


# Deadlines.


@pytest.mark.parametrize(
    ("category", "handling"),
    [
        ("noise", timedelta(days=7)),
        ("water-supply", timedelta(hours=24)),
        ("public-safety-hazard", timedelta(hours=2)),
        ("wage-arrears", timedelta(days=15)),
    ],
)
def test_dispatch_opens_the_handling_deadline_of_the_category(
    ticket_factory, fire, category, handling
):
    ticket = ticket_factory(category=category)

    decision = fire(ticket, *DISPATCH)

    assert windows(decision) == {"response": timedelta(hours=12), "handling": handling}
    assert {d.state for d in decision.opened} == {"dispatched"}
    assert all(d.opened_at == T0 for d in decision.opened)


def test_an_urgent_dispatch_must_be_responded_to_within_two_hours(ticket_factory, fire):
    ticket = ticket_factory()
    lead_unit, route = DISPATCH[1]["lead_unit"], DISPATCH[1]["route"]

    decision = fire(
        ticket, "dispatch", {"lead_unit": lead_unit, "route": route, "urgency": "urgent"}
    )

    assert decision.after.urgency == "urgent"
    assert windows(decision)["response"] == timedelta(hours=2)
    (response,) = [d for d in decision.opened if d.kind == "response"]
    assert response.due_at == T0 + timedelta(hours=2)


def test_submitting_opens_the_intake_deadline(ticket_factory, compiled):
    ticket = ticket_factory()

    decision = decide.decide_submit(compiled, ticket, "operator-7", T0)

    assert windows(decision) == {"intake": timedelta(hours=2)}
    assert decision.closed == ()


def test_leaving_a_state_cancels_its_deadlines_and_opens_the_next(ticket_factory, fire):
    ticket = ticket_factory(state="dispatched", lead_unit="chaoyang-housing")

    decision = fire(ticket, *REPLY)

    assert decision.closed == (DeadlinesClosed("dispatched", DeadlineStatus.CANCELLED),)
    assert windows(decision) == {"callback": timedelta(days=1)}


@pytest.mark.parametrize("state", ["dispatched", "re-dispatched"])
def test_responding_meets_the_response_deadline_and_keeps_the_others(ticket_factory, fire, state):
    ticket = ticket_factory(state=state, lead_unit="chaoyang-housing")

    decision = fire(ticket, *RESPOND, at=T0 + timedelta(minutes=30))

    assert decision.after.state == state
    assert decision.closed == (DeadlinesClosed(state, DeadlineStatus.MET, ("response",)),)
    assert decision.opened == ()
    assert decision.after.fields["responded_at"] == "2026-03-02T09:30:00+00:00"


def test_a_new_round_opens_fresh_handling_deadlines(ticket_factory, fire):
    ticket = ticket_factory(state="callback", category="water-supply", lead_unit="x")

    decision = fire(ticket, *UNSOLVED)

    assert decision.closed == (DeadlinesClosed("callback", DeadlineStatus.CANCELLED),)
    assert windows(decision) == {"response": timedelta(hours=12), "handling": timedelta(hours=24)}
    assert {d.state for d in decision.opened} == {"re-dispatched"}


# Outbox.


def test_after_handlers_become_outbox_messages_keyed_by_ticket_seq_and_handler(
    ticket_factory, fire
):
    ticket = ticket_factory(seq=1, version=1)

    decision = fire(ticket, *DISPATCH)

    (message,) = decision.outbox
    assert message.handler == "notify_unit"
    assert message.key == f"{TICKET_ID}:2:notify_unit"
    assert message.payload == {
        "ticket_id": TICKET_ID,
        "trigger": "dispatch",
        "from": "received",
        "to": "dispatched",
        "seq": 2,
        "category": "noise",
        "lead_unit": "chaoyang-housing",
        "co_units": [],
    }


def test_a_transition_without_after_handlers_sends_nothing(ticket_factory, fire):
    ticket = ticket_factory(state="handled")

    decision = fire(ticket, *START_CALLBACK)

    assert decision.outbox == ()


# History.


def test_submit_starts_the_chain_at_seq_1_from_no_state(ticket_factory, compiled):
    ticket = ticket_factory(summary="the lift is broken", fields={"floor": 9})

    decision = decide.decide_submit(compiled, ticket, "operator-7", T0)

    (event,) = decision.events
    assert (event.seq, event.prev_hash, event.from_state) == (1, history.GENESIS, None)
    assert (event.trigger, event.to_state, event.actor) == ("submit", "received", "operator-7")
    assert event.payload["summary"] == "the lift is broken"
    assert event.payload["floor"] == 9
    assert (decision.after.version, decision.after.seq) == (1, 1)
    assert decision.after.head_hash == event.hash


@pytest.fixture
def chain(ticket_factory, compiled, walk) -> list:
    """The events of a ticket submitted, handled twice and closed."""
    submitted = decide.decide_submit(compiled, ticket_factory(), "operator-7", T0)
    decisions = [submitted, *walk(submitted.after, DISPATCH, *ROUND, UNSOLVED, *ROUND, SOLVED)]
    return [event for d in decisions for event in d.events]


def test_each_event_follows_the_one_before(chain):
    for before, event in zip(chain, chain[1:], strict=False):
        assert event.seq == before.seq + 1
        assert event.prev_hash == before.hash


def test_a_chain_of_decided_events_verifies(chain):
    assert len(chain) == 10
    assert history.broken_links(chain) == []


def test_an_edited_payload_breaks_the_chain(chain):
    edited = replace(chain[4], payload={"opinion": "nothing to do"})

    problems = history.broken_links([*chain[:4], edited, *chain[5:]])

    assert problems == [f"event {edited.seq} content does not match its hash"]


def test_a_dropped_event_breaks_the_chain(chain):
    problems = history.broken_links([*chain[:3], *chain[4:]])

    assert "event seq 5 where 4 was expected" in problems
    assert "event 5 does not follow the hash of the one before" in problems


def test_deciding_leaves_the_snapshot_untouched(ticket_factory, fire):
    ticket = ticket_factory()

    decision = fire(ticket, *DISPATCH)

    assert decision.before is ticket
    assert (ticket.state, ticket.version, ticket.lead_unit) == ("received", 0, None)

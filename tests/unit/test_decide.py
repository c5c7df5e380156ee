"""The engine's judgement on the shipped Beijing 12345 definition, without a database.

Each test builds a ticket snapshot, fires commands through ``decide`` and reads the Decision.
Deadlines are computed on the definition's real ``beijing`` calendar (working hours 09:00-12:00
and 13:00-18:00 Asia/Shanghai, China's official holidays), so due times are exact instants.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.engine import deadlines as deadline_rules
from hotline.engine import decide, history
from hotline.engine.decision import Decision
from hotline.engine.definition import Measure
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Deadline, Ticket
from hotline.errors import (
    CommandError,
    GuardRejected,
    IllegalTransition,
    InvalidField,
    MissingField,
    StaleVersion,
)
from hotline.workflows import loader

BEIJING = ZoneInfo("Asia/Shanghai")
WORKING = Measure.WORKING
HOUR = 3600
WORKDAY = 8 * HOUR  # 09:00-12:00 and 13:00-18:00


def bj(text: str) -> datetime:
    """An instant written in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


T0 = bj("2026-03-02 10:00")  # a Monday, in working hours; March 2026 has no holiday
TICKET_ID = 42

Step = tuple[str, dict[str, Any]]
DISPATCH: Step = ("dispatch", {"lead_unit": "chaoyang-housing", "route": "direct"})
RESPOND: Step = ("respond", {"method": "phone"})
REPLY: Step = ("reply", {"opinion": "the lift was repaired on Tuesday"})
START_CALLBACK: Step = ("start_callback", {})
SOLVED: Step = ("record_callback", {"resolved": True, "satisfaction": "satisfied"})
UNSOLVED: Step = ("record_callback", {"resolved": False, "satisfaction": "unsatisfied"})
PAUSE: Step = ("pause", {"reason": "the citizen is abroad until Tuesday"})
RESUME: Step = ("resume", {})
ROUND = (RESPOND, REPLY, START_CALLBACK)

# The steps from a submitted ticket to each state.
PATHS: dict[str, tuple[Step, ...]] = {
    "received": (),
    "dispatched": (DISPATCH,),
    "handled": (DISPATCH, RESPOND, REPLY),
    "callback": (DISPATCH, *ROUND),
    "re-dispatched": (DISPATCH, *ROUND, UNSOLVED),
    "closed": (DISPATCH, *ROUND, SOLVED),
}


def _compile(text: str) -> CompiledDefinition:
    return loader.compile_source(text, 1, "beijing-12345")


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
def stored() -> Callable[[Decision], Ticket]:
    """Builder: a decision's ticket as the store reads it back, every deadline with its row id."""
    ids = itertools.count(1)

    def read_back(decision: Decision) -> Ticket:
        return decision.after.evolve(
            deadlines=tuple(
                d if d.id is not None else d.evolve(id=next(ids)) for d in decision.after.deadlines
            )
        )

    return read_back


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
def walk(fire, stored) -> Callable[..., list[Decision]]:
    """Builder: fire steps one after the other, an hour apart from T0; return every decision."""

    def walk_(ticket: Ticket, *steps: Step) -> list[Decision]:
        decisions = []
        for hours, (trigger, fields) in enumerate(steps):
            decision = fire(ticket, trigger, fields, at=T0 + timedelta(hours=hours))
            decisions.append(decision)
            ticket = stored(decision)
        return decisions

    return walk_


@pytest.fixture
def reach(compiled, ticket_factory, fire, stored) -> Callable[..., Ticket]:
    """Builder: a ticket submitted at T0 and walked through ``steps`` (an hour apart from T0),
    as the store would read it back."""

    def reach_(*steps: Step, **changes: Any) -> Ticket:
        submitted = decide.decide_submit(compiled, ticket_factory(**changes), "operator-7", T0)
        ticket = stored(submitted)
        for hours, (trigger, fields) in enumerate(steps):
            ticket = stored(fire(ticket, trigger, fields, at=T0 + timedelta(hours=hours)))
        return ticket

    return reach_


def states(decisions: list[Decision]) -> list[str]:
    return [d.after.state for d in decisions]


def by_kind(deadlines: Iterable[Deadline]) -> dict[str, Deadline]:
    listed = list(deadlines)
    found = {d.kind: d for d in listed}
    assert len(found) == len(listed), f"two deadlines of one kind: {listed}"
    return found


def opened(decision: Decision) -> dict[str, Deadline]:
    """The deadline rows a decision creates (no id yet), by kind."""
    return by_kind(d for d in decision.deadlines if d.id is None)


def closed(decision: Decision) -> dict[str, str]:
    """The status of each deadline a decision closes, by kind."""
    return {d.kind: d.status for d in decision.deadlines if not d.open}


def closing(deadline: Deadline, status: str, at: datetime) -> Deadline:
    """``deadline`` as a decision at ``at`` writes it back when it closes it."""
    return deadline.evolve(status=status, closed_at=at, fire_at=None)


# Outcomes without dispatch.


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        ("answer", {"answer": "the subsidy is applied for at the street office"}),
        ("refer", {"reason_code": "emergency", "to": "110", "reason": "a crime in progress"}),
        ("merge_repeat", {"repeat_of": 7}),
        ("decline", {"reason_code": "outside-government", "reason": "a private dispute"}),
    ],
)
def test_a_received_ticket_can_be_closed_without_dispatch(reach, fire, trigger, fields):
    ticket = reach()
    (intake,) = ticket.deadlines
    at = T0 + timedelta(minutes=30)

    decision = fire(ticket, trigger, fields, at=at)

    assert decision.after.state == "closed"
    assert decision.deadlines == (closing(intake, "met", at),)  # each of them meets intake
    assert decision.after.deadlines == ()
    (event,) = decision.events
    assert (event.trigger, event.from_state, event.to_state) == (trigger, "received", "closed")
    assert event.payload == {**fields, "met": {"intake": {"late": False}}}  # met in time
    assert decision.links == ((("repeat_of", 7),) if trigger == "merge_repeat" else ())


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        ("refer", {"to": "110", "reason": "no code"}),
        ("decline", {"reason": "no code"}),
        ("decline", {"reason_code": "repeat", "reason": "not a decline's kind"}),
    ],
)
def test_closings_without_dispatch_need_an_art_11_reason_code(reach, fire, trigger, fields):
    with pytest.raises(CommandError, match="reason_code"):
        fire(reach(), trigger, fields)


def test_a_repeat_cannot_name_itself(reach, fire):
    ticket = reach()
    with pytest.raises(InvalidField, match="cannot name itself"):
        fire(ticket, "merge_repeat", {"repeat_of": ticket.id})


# The handling round.


def test_a_dispatched_ticket_that_is_solved_at_callback_closes(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, DISPATCH, RESPOND, REPLY, START_CALLBACK, SOLVED)

    assert states(decisions) == ["dispatched", "dispatched", "handled", "callback", "closed"]
    assert decisions[-1].after.round == 1
    assert decisions[-1].after.lead_unit == "chaoyang-housing"
    assert decisions[-1].after.deadlines == ()


def test_dispatch_copies_units_and_category_onto_the_ticket(ticket_factory, fire):
    ticket = ticket_factory()

    decision = fire(
        ticket,
        "dispatch",
        {
            "lead_unit": "chaoyang-water",
            "co_units": "chaoyang-housing, street-chaowai",
            "route": "via_district",
            "category": "water-supply",
        },
    )

    assert decision.after.lead_unit == "chaoyang-water"
    assert decision.after.co_units == ("chaoyang-housing", "street-chaowai")
    assert decision.after.category == "water-supply"
    assert decision.after.fields == {"route": "via_district"}


def test_dispatch_with_an_unknown_category_is_invalid(ticket_factory, fire):
    ticket = ticket_factory()
    trigger, fields = DISPATCH

    with pytest.raises(InvalidField) as refused:
        fire(ticket, trigger, {**fields, "category": "street-lamps"})

    assert refused.value.field == "category"
    assert "unknown category 'street-lamps'" in refused.value.reason
    assert "noise" in refused.value.reason  # the known codes are listed


@pytest.mark.parametrize(
    ("field", "units"),
    [
        ("lead_unit", {"lead_unit": "water-grop"}),
        ("co_units", {"co_units": "street-jianwai, jianwai"}),
    ],
)
def test_dispatch_to_a_unit_the_catalogue_does_not_declare_is_invalid(
    ticket_factory, fire, field, units
):
    ticket = ticket_factory()
    trigger, fields = DISPATCH

    with pytest.raises(InvalidField) as refused:
        fire(ticket, trigger, {**fields, **units})

    assert refused.value.field == field
    assert "unknown unit" in refused.value.reason and "water-group" in refused.value.reason


def test_submitting_an_unknown_category_is_invalid(ticket_factory, compiled):
    ticket = ticket_factory(category="street-lamps")

    with pytest.raises(InvalidField) as refused:
        decide.decide_submit(compiled, ticket, "operator-7", T0)

    assert refused.value.field == "category"


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


OBJECT = ("return", {"reason": "the building belongs to Haidian"})
CONFIRM = ("confirm_objection", {"reason": "checked the map: Haidian"})


def test_a_confirmed_objection_sends_the_ticket_back_to_received_without_units(
    ticket_factory, fire
):
    ticket = ticket_factory(
        state="dispatched", lead_unit="chaoyang-housing", co_units=("street-chaowai",)
    )

    filed = fire(ticket, *OBJECT)
    assert filed.after.state == "dispatched"  # an objection does not take effect by itself
    assert filed.after.lead_unit == "chaoyang-housing"
    assert [m.handler for m in filed.outbox] == ["notify_centre"]
    decision = fire(filed.after, *CONFIRM)

    assert decision.after.state == "received"
    assert decision.after.lead_unit is None
    assert decision.after.co_units == ()
    assert [m.handler for m in decision.outbox] == ["notify_centre"]


def test_a_return_cancels_the_units_deadlines_and_restarts_intake(reach, fire):
    ticket = reach(DISPATCH)
    deadlines = by_kind(ticket.deadlines)
    at = T0 + timedelta(hours=1)

    filed = fire(ticket, *OBJECT, at=at - timedelta(minutes=30))
    assert filed.deadlines == ()  # the clock runs on while the centre reviews
    decision = fire(filed.after, *CONFIRM, at=at)

    assert closed(decision) == {"response": "cancelled", "handling": "cancelled"}
    assert set(decision.deadlines) >= {
        closing(deadlines["response"], "cancelled", at),
        closing(deadlines["handling"], "cancelled", at),
    }
    (intake,) = decision.after.deadlines
    assert opened(decision) == {"intake": intake}
    assert (intake.state, intake.opened_at, intake.due_at) == (
        "received",
        at,
        at + timedelta(hours=2),
    )


def test_a_returned_ticket_can_be_dispatched_to_another_unit(ticket_factory, walk):
    ticket = ticket_factory()
    to_haidian = ("dispatch", {"lead_unit": "haidian-housing", "route": "direct"})

    decisions = walk(ticket, DISPATCH, OBJECT, CONFIRM, to_haidian)

    assert states(decisions) == ["dispatched", "dispatched", "received", "dispatched"]
    assert decisions[-1].after.lead_unit == "haidian-housing"


def test_the_unit_a_returned_ticket_is_dispatched_to_can_respond(ticket_factory, walk):
    ticket = ticket_factory()
    to_haidian = ("dispatch", {"lead_unit": "haidian-housing", "route": "direct"})

    decisions = walk(ticket, DISPATCH, RESPOND, OBJECT, CONFIRM, to_haidian, RESPOND)

    redispatched, responded = decisions[-2:]
    assert "responded_round" not in decisions[3].after.fields  # the return forgot the response
    assert closed(responded) == {"response": "met"}
    (met,) = responded.deadlines
    assert met.opened_at == redispatched.events[0].occurred_at  # Haidian's own response clock
    assert responded.after.fields["responded_round"] == 1


def test_redispatch_gives_the_rehandling_to_another_unit(ticket_factory, fire):
    ticket = ticket_factory(state="re-dispatched", round=2, lead_unit="chaoyang-housing")

    decision = fire(
        ticket, "redispatch", {"lead_unit": "chaoyang-urban", "reason": "it is a street lamp"}
    )

    assert decision.after.state == "re-dispatched"
    assert decision.after.lead_unit == "chaoyang-urban"
    assert decision.after.round == 2
    assert [m.handler for m in decision.outbox] == ["notify_unit"]


def test_redispatch_reopens_the_deadlines_and_lets_the_new_unit_respond(reach, fire, stored):
    ticket = reach(*PATHS["re-dispatched"], RESPOND)  # round 2; Chaoyang housing responded
    assert ticket.fields["responded_round"] == 2
    (handling,) = ticket.deadlines
    at = bj("2026-03-03 10:00")

    decision = fire(
        ticket, "redispatch", {"lead_unit": "chaoyang-urban", "reason": "a street lamp"}, at=at
    )

    # Re-entering the state closes its deadlines and opens them afresh for the new unit.
    assert closed(decision) == {"handling": "cancelled"}
    assert closing(handling, "cancelled", at) in decision.deadlines
    fresh = opened(decision)
    assert set(fresh) == {"response", "handling"}
    assert {(d.state, d.opened_at) for d in fresh.values()} == {("re-dispatched", at)}
    assert fresh["response"].due_at == bj("2026-03-03 15:00")  # 4 working hours
    assert fresh["handling"].due_at == bj("2026-03-12 10:00")  # 7 working days
    assert "responded_round" not in decision.after.fields

    responded = fire(stored(decision), *RESPOND, at=bj("2026-03-03 11:00"))

    assert closed(responded) == {"response": "met"}
    assert responded.after.fields["responded_round"] == 2
    assert responded.after.lead_unit == "chaoyang-urban"


def test_redispatch_to_the_same_unit_is_refused(ticket_factory, fire):
    ticket = ticket_factory(state="re-dispatched", round=2, lead_unit="chaoyang-housing")

    with pytest.raises(GuardRejected) as refused:
        fire(ticket, "redispatch", {"lead_unit": "chaoyang-housing", "reason": "again"})

    assert refused.value.failed == ["other_unit"]
    assert (refused.value.trigger, refused.value.state) == ("redispatch", "re-dispatched")


# 剔除.

EXCLUDE: Step = ("exclude", {"approver": "director-li", "reason": "a duplicate by a robot"})


@pytest.mark.parametrize("state", list(PATHS))
def test_a_ticket_can_be_excluded_in_any_state_and_stays_there(reach, fire, state):
    ticket = reach(*PATHS[state])
    assert bool(ticket.deadlines) == (state != "closed")

    decision = fire(ticket, *EXCLUDE, at=T0 + timedelta(days=1))

    assert decision.after.excluded is True
    assert decision.after.state == state
    assert decision.deadlines == ()
    assert decision.after.deadlines == ticket.deadlines


def test_an_excluded_ticket_cannot_be_excluded_again(ticket_factory, fire):
    ticket = ticket_factory(state="dispatched", excluded=True)

    with pytest.raises(GuardRejected) as refused:
        fire(ticket, *EXCLUDE)

    assert refused.value.failed == ["not_excluded"]


# The round limit.

THREE_ROUNDS = (DISPATCH, *ROUND, UNSOLVED, *ROUND, UNSOLVED, *ROUND)


def test_after_the_last_round_an_unsolved_callback_waits_in_callback(ticket_factory, walk):
    ticket = ticket_factory()

    decisions = walk(ticket, *THREE_ROUNDS, UNSOLVED)

    last = decisions[-1].after
    assert (last.state, last.round) == ("callback", 3)
    assert last.fields["satisfaction"] == "unsatisfied"
    assert decisions[-1].outbox == ()
    assert closed(decisions[-1]) == {"callback": "met"}  # the callback itself was made
    assert last.deadlines == ()


def test_close_unresolved_closes_a_ticket_at_the_round_limit(reach, fire, stored):
    ticket = reach(*THREE_ROUNDS)
    assert [d.kind for d in ticket.deadlines] == ["callback"]
    waiting = stored(fire(ticket, *UNSOLVED, at=bj("2026-03-03 10:00")))

    decision = fire(
        waiting,
        "close_unresolved",
        {"reason": "needs a new law", "approver": "director-li"},
        at=bj("2026-03-04 10:00"),
    )

    assert decision.after.state == "closed"
    assert decision.deadlines == ()  # nothing was left open to close
    assert decision.after.deadlines == ()


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


# Deadlines: which open, when they fall due.


def test_submitting_opens_the_intake_deadline(ticket_factory, compiled):
    ticket = ticket_factory()

    decision = decide.decide_submit(compiled, ticket, "operator-7", T0)

    (intake,) = decision.deadlines
    assert decision.after.deadlines == decision.deadlines
    assert (intake.kind, intake.state, intake.status, intake.id) == (
        "intake",
        "received",
        "pending",
        None,
    )
    assert (intake.measure, intake.window) == ("calendar", 2 * HOUR)
    assert (intake.opened_at, intake.due_at, intake.fire_at) == (
        T0,
        bj("2026-03-02 12:00"),
        intake.due_at,
    )


def test_dispatch_meets_the_intake_deadline(reach, fire):
    ticket = reach()
    (intake,) = ticket.deadlines
    at = T0 + timedelta(minutes=20)

    decision = fire(ticket, *DISPATCH, at=at)

    assert closed(decision) == {"intake": "met"}
    assert closing(intake, "met", at) in decision.deadlines
    assert set(opened(decision)) == {"response", "handling"}


@pytest.mark.parametrize(
    ("category", "measure", "window", "due", "remind"),
    [
        # Ordinary: 7 working days; the reminder at 80% (44.8 working hours).
        ("noise", "working", 7 * WORKDAY, "2026-03-11 10:00", "2026-03-09 15:48"),
        ("water-supply", "calendar", 24 * HOUR, "2026-03-03 10:00", "2026-03-03 05:12"),
        ("public-safety-hazard", "calendar", 2 * HOUR, "2026-03-02 12:00", "2026-03-02 11:00"),
        ("wage-arrears", "working", 15 * WORKDAY, "2026-03-23 10:00", "2026-03-18 10:00"),
    ],
)
def test_dispatch_opens_the_handling_deadline_of_the_category(
    ticket_factory, fire, category, measure, window, due, remind
):
    ticket = ticket_factory(category=category)

    decision = fire(ticket, *DISPATCH)

    new = opened(decision)
    assert set(new) == {"response", "handling"}
    assert decision.after.deadlines == tuple(decision.deadlines)
    handling, response = new["handling"], new["response"]
    assert (handling.measure, handling.window) == (measure, window)
    assert (handling.due_at, handling.fire_at, handling.rung) == (bj(due), bj(remind), 0)
    assert (response.measure, response.window) == ("working", 4 * HOUR)
    assert response.due_at == bj("2026-03-02 15:00")  # 10-12 and 13-15: lunch does not count
    for d in new.values():
        assert (d.state, d.status, d.opened_at, d.running_since, d.consumed) == (
            "dispatched",
            "pending",
            T0,
            T0,
            0,
        )


@pytest.mark.parametrize(
    ("urgency", "measure", "due"),
    [
        ("urgent", "calendar", "2026-03-06 19:00"),  # 2 hours, the evening counts
        ("normal", "working", "2026-03-09 12:00"),  # 4 working hours: 1 on Friday, 3 on Monday
    ],
)
def test_an_urgent_dispatch_must_be_responded_to_within_two_hours(
    ticket_factory, fire, urgency, measure, due
):
    ticket = ticket_factory()
    lead_unit, route = DISPATCH[1]["lead_unit"], DISPATCH[1]["route"]
    friday = bj("2026-03-06 17:00")

    decision = fire(
        ticket, "dispatch", {"lead_unit": lead_unit, "route": route, "urgency": urgency}, at=friday
    )

    assert decision.after.urgency == urgency
    response = opened(decision)["response"]
    assert (response.measure, response.due_at) == (measure, bj(due))


def test_working_time_skips_the_labour_day_holiday_and_counts_its_make_up_saturday(
    ticket_factory, fire
):
    # Thu 2026-04-30 16:00; May 1-5 are holidays, Saturday May 9 is a make-up working day.
    decision = fire(ticket_factory(), *DISPATCH, at=bj("2026-04-30 16:00"))

    new = opened(decision)
    assert new["response"].due_at == bj("2026-05-06 11:00")  # 2h on Thursday, 2h on Wednesday
    assert new["handling"].due_at == bj("2026-05-13 16:00")  # Apr 30 + May 6,7,8,9,11,12,13


def test_reply_meets_handling_and_cancels_an_unmet_response(reach, fire):
    ticket = reach(DISPATCH)
    deadlines = by_kind(ticket.deadlines)
    at = T0 + timedelta(hours=3)

    decision = fire(ticket, *REPLY, at=at)

    assert decision.after.state == "handled"
    assert closed(decision) == {"response": "cancelled", "handling": "met"}
    assert set(decision.deadlines) >= {
        closing(deadlines["response"], "cancelled", at),
        closing(deadlines["handling"], "met", at),
    }
    (callback_start,) = decision.after.deadlines
    assert opened(decision) == {"callback_start": callback_start}
    # Art. 23: the callback starts when the handling limit expires, not a day after the reply
    assert (callback_start.measure, callback_start.due_at) == (
        "calendar",
        deadlines["handling"].due_at,
    )


def test_a_reply_after_the_handling_limit_starts_the_callback_at_once(reach, fire):
    ticket = reach(DISPATCH)
    late = by_kind(ticket.deadlines)["handling"].due_at + timedelta(hours=5)

    decision = fire(ticket, *REPLY, at=late)

    (callback_start,) = decision.after.deadlines
    assert (callback_start.window, callback_start.due_at, callback_start.fire_at) == (0, late, late)


def test_reply_after_a_response_marks_handling_met(reach, fire):
    ticket = reach(DISPATCH, RESPOND)
    (handling,) = ticket.deadlines
    at = bj("2026-03-05 16:30")

    decision = fire(ticket, *REPLY, at=at)

    met = [d for d in decision.deadlines if d.id is not None]
    assert met == [closing(handling, "met", at)]
    assert met[0].status == "met"
    assert [d.kind for d in decision.after.deadlines] == ["callback_start"]


def test_starting_the_callback_meets_callback_start_and_opens_the_callback(reach, fire):
    ticket = reach(*PATHS["handled"])
    (callback_start,) = ticket.deadlines
    at = bj("2026-03-02 16:00")

    decision = fire(ticket, *START_CALLBACK, at=at)

    assert closed(decision) == {"callback_start": "met"}
    assert closing(callback_start, "met", at) in decision.deadlines
    callback = opened(decision)["callback"]
    assert (callback.measure, callback.window) == ("working", 2 * WORKDAY)
    assert callback.due_at == bj("2026-03-04 16:00")


@pytest.mark.parametrize("state", ["dispatched", "re-dispatched"])
def test_responding_meets_the_response_deadline_and_keeps_the_others(reach, fire, state):
    ticket = reach(*PATHS[state])
    deadlines = by_kind(ticket.deadlines)
    at = bj("2026-03-03 09:30")

    decision = fire(ticket, *RESPOND, at=at)

    assert decision.after.state == state
    assert decision.deadlines == (closing(deadlines["response"], "met", at),)
    assert decision.after.deadlines == (deadlines["handling"],)
    assert decision.after.fields["responded_at"] == "2026-03-03T09:30:00+08:00"


def test_a_new_round_opens_fresh_handling_deadlines(reach, fire):
    ticket = reach(*PATHS["callback"], category="water-supply")
    (callback,) = ticket.deadlines
    at = bj("2026-03-03 10:00")

    decision = fire(ticket, *UNSOLVED, at=at)

    assert decision.deadlines[0] == closing(callback, "met", at)  # the callback was made
    new = opened(decision)
    assert {k: (d.measure, d.window) for k, d in new.items()} == {
        "response": ("working", 4 * HOUR),
        "handling": ("calendar", 24 * HOUR),
    }
    assert {(d.state, d.opened_at) for d in new.values()} == {("re-dispatched", at)}


# Deadlines: stopping and moving the clock.


def test_pausing_stops_every_open_clock_and_keeps_the_time_consumed(reach, fire):
    ticket = reach(DISPATCH)  # dispatched Monday 10:00
    at = bj("2026-03-02 14:00")  # 3 working hours later (lunch does not count)

    decision = fire(ticket, *PAUSE, at=at)

    assert decision.after.state == "dispatched"
    assert decision.deadlines == tuple(
        d.evolve(status="paused", consumed=3 * HOUR, running_since=None, fire_at=None)
        for d in ticket.deadlines
    )
    assert decision.after.deadlines == decision.deadlines


def test_resuming_moves_the_due_times_by_the_working_time_paused(reach, fire, stored, compiled):
    ticket = reach(DISPATCH)
    before = by_kind(ticket.deadlines)
    paused = stored(fire(ticket, *PAUSE, at=bj("2026-03-02 14:00")))
    at = bj("2026-03-03 14:00")  # a working day later

    decision = fire(paused, *RESUME, at=at)

    after = by_kind(decision.deadlines)
    assert after["response"].due_at == bj("2026-03-03 15:00")  # was Monday 15:00
    assert after["handling"].due_at == bj("2026-03-12 10:00")  # was Wednesday 03-11 10:00
    assert after["handling"].fire_at == bj("2026-03-10 15:48")  # the reminder moves too
    for kind, resumed in after.items():
        assert resumed.due_at == compiled.calendar.add(before[kind].due_at, WORKDAY, WORKING)
        assert (resumed.status, resumed.running_since, resumed.consumed) == (
            "pending",
            at,
            3 * HOUR,
        )
        assert (resumed.id, resumed.window, resumed.opened_at) == (
            before[kind].id,
            before[kind].window,
            T0,
        )


@pytest.mark.parametrize(
    ("category", "pause_at", "resume_at", "due_before", "due_after"),
    [
        # Friday 17:00 to Monday 10:00 is two working hours: the weekend does not count.
        ("noise", "2026-03-06 17:00", "2026-03-09 10:00", "2026-03-11 10:00", "2026-03-11 12:00"),
        # A calendar-time deadline moves by the whole pause, night included.
        (
            "water-supply",
            "2026-03-02 14:00",
            "2026-03-02 20:00",
            "2026-03-03 10:00",
            "2026-03-03 16:00",
        ),
    ],
)
def test_a_pause_moves_the_due_time_by_the_time_it_lasted_in_the_deadlines_measure(
    reach, fire, stored, category, pause_at, resume_at, due_before, due_after
):
    ticket = reach(DISPATCH, RESPOND, category=category)
    (handling,) = ticket.deadlines
    assert handling.due_at == bj(due_before)
    paused = stored(fire(ticket, *PAUSE, at=bj(pause_at)))

    decision = fire(paused, *RESUME, at=bj(resume_at))

    (resumed,) = decision.deadlines
    assert resumed.due_at == bj(due_after)


def test_a_paused_clock_cannot_be_paused_again(reach, fire, stored):
    paused = stored(fire(reach(DISPATCH), *PAUSE, at=bj("2026-03-02 14:00")))

    with pytest.raises(GuardRejected) as refused:
        fire(paused, *PAUSE, at=bj("2026-03-02 15:00"))

    assert refused.value.failed == ["clock_running"]


def test_a_running_clock_cannot_be_resumed(reach, fire):
    with pytest.raises(GuardRejected) as refused:
        fire(reach(DISPATCH), *RESUME, at=bj("2026-03-02 15:00"))

    assert refused.value.failed == ["clock_paused"]


def test_replying_while_paused_meets_the_paused_deadline(reach, fire, stored):
    paused = stored(fire(reach(DISPATCH, RESPOND), *PAUSE, at=bj("2026-03-02 14:00")))
    (handling,) = paused.deadlines
    at = bj("2026-03-03 10:00")

    decision = fire(paused, *REPLY, at=at)

    assert closing(handling, "met", at) in decision.deadlines


def extension(by: str) -> Step:
    why = {"reason": "the owners' meeting is next week", "explained": "told by phone"}
    return ("extend", {"by": by, **why, "approver": "li"})


@pytest.mark.parametrize(
    ("category", "by", "window", "due"),
    [
        ("noise", "3d", 10 * WORKDAY, "2026-03-16 10:00"),  # 3 more working days
        ("noise", "4h", 7 * WORKDAY + 4 * HOUR, "2026-03-11 15:00"),  # 4 more working hours
        ("water-supply", "12h", 36 * HOUR, "2026-03-03 22:00"),  # calendar time: 12 hours
    ],
)
def test_extending_moves_the_handling_due_time_by_the_extension(
    reach, fire, category, by, window, due
):
    ticket = reach(DISPATCH, category=category)
    before = by_kind(ticket.deadlines)

    decision = fire(ticket, *extension(by), at=bj("2026-03-02 16:00"))

    (extended,) = decision.deadlines  # only what `extends` names: the response is untouched
    assert by_kind(decision.after.deadlines)["response"] == before["response"]
    assert (extended.kind, extended.id, extended.status) == (
        "handling",
        before["handling"].id,
        "pending",
    )
    assert (extended.window, extended.due_at) == (window, bj(due))
    # The clock is not restarted at the extension: it still runs from the dispatch.
    assert (extended.opened_at, extended.running_since, extended.consumed) == (T0, T0, 0)
    assert decision.events[0].payload["by"] == by


def test_an_extension_keeps_the_time_consumed_before_a_pause(reach, fire, stored):
    ticket = reach(DISPATCH, RESPOND)
    paused = stored(fire(ticket, *PAUSE, at=bj("2026-03-02 14:00")))  # 3h consumed
    resumed = stored(fire(paused, *RESUME, at=bj("2026-03-04 14:00")))  # 2 working days later
    (handling,) = resumed.deadlines
    assert handling.due_at == bj("2026-03-13 10:00")

    decision = fire(resumed, *extension("1d"), at=bj("2026-03-05 10:00"))

    (extended,) = decision.deadlines
    assert (extended.consumed, extended.running_since) == (3 * HOUR, bj("2026-03-04 14:00"))
    assert extended.window == 8 * WORKDAY
    assert extended.due_at == bj("2026-03-16 10:00")  # one working day after 03-13 10:00


def test_extending_a_paused_deadline_lengthens_it_once_the_clock_resumes(reach, fire, stored):
    paused = stored(fire(reach(DISPATCH, RESPOND), *PAUSE, at=bj("2026-03-02 14:00")))
    extended = fire(paused, *extension("1d"), at=bj("2026-03-03 10:00"))
    (handling,) = extended.deadlines
    assert (handling.status, handling.window, handling.consumed) == (
        "paused",
        8 * WORKDAY,
        3 * HOUR,
    )

    decision = fire(stored(extended), *RESUME, at=bj("2026-03-04 14:00"))

    (resumed,) = decision.deadlines
    assert resumed.due_at == bj("2026-03-16 10:00")  # 61 working hours after Wed 14:00


def test_an_extension_moves_the_overdue_firing_with_the_due_time(reach, fire, compiled):
    ticket = reach(DISPATCH)
    handling = by_kind(ticket.deadlines)["handling"]
    rule = deadline_rules.rule_for(compiled.definition, ticket, handling)
    assert rule is not None
    # As after the reminder fired: the next rung is the due time itself.
    reminded = deadline_rules.schedule(handling.evolve(rung=1), rule, compiled.calendar)
    assert reminded.fire_at == reminded.due_at == bj("2026-03-11 10:00")
    ticket = ticket.evolve(
        deadlines=tuple(reminded if d.kind == "handling" else d for d in ticket.deadlines)
    )

    decision = fire(ticket, *extension("3d"), at=bj("2026-03-03 10:00"))

    (extended,) = decision.deadlines
    assert extended.due_at == bj("2026-03-16 10:00")
    assert extended.fire_at == extended.due_at


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
def chain(ticket_factory, compiled, walk, stored) -> list:
    """The events of a ticket submitted, handled twice and closed."""
    submitted = decide.decide_submit(compiled, ticket_factory(), "operator-7", T0)
    decisions = [submitted, *walk(stored(submitted), DISPATCH, *ROUND, UNSOLVED, *ROUND, SOLVED)]
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


# What the assessment reads: the deadlines a command met, and whether late.


@pytest.mark.parametrize(
    ("after", "late"),
    [(timedelta(hours=5), False), (timedelta(hours=6), True)],  # due 15:00: 4 working hours
)
def test_a_response_records_whether_it_met_its_deadline_in_time(reach, fire, after, late):
    ticket = reach(DISPATCH)  # dispatched at T0, Monday 10:00 Beijing

    (event,) = fire(ticket, *RESPOND, at=T0 + after).events

    assert event.payload == {"method": "phone", "met": {"response": {"late": late}}}


def test_a_recorded_payload_fired_again_seals_the_same_event(reach, fire):
    """Replaying history passes each event's payload back as the command's fields."""
    ticket = reach(DISPATCH)
    (event,) = fire(ticket, *RESPOND, at=T0 + timedelta(hours=5)).events

    (again,) = fire(ticket, "respond", dict(event.payload), at=event.occurred_at).events

    assert again.hash == event.hash
